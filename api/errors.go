package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// awsError is an error answered to the client as AWS would: a status, the error
// type in X-Amzn-ErrorType and a JSON body {"Type":"User","Message":...}.
// Handlers return it (or wrap it); anything else becomes a ServiceException.
type awsError struct {
	Code    string // e.g. "ResourceNotFoundException"
	Status  int
	Message string
	Reason  string // e.g. TooManyRequestsException's Reason; omitted when empty
	NoType  bool   // omit "Type": a few of AWS's answers carry none
}

func (e *awsError) Error() string { return e.Code + ": " + e.Message }

// newError builds an error of a type from the model, with the model's status.
// Types AWS sends but does not model (ValidationException,
// RequestEntityTooLargeException) fall back to the status given in unmodelled.
func newError(code, format string, args ...any) *awsError {
	status := http.StatusBadRequest
	if s, ok := errorShapes[code]; ok && s.Status != 0 {
		status = s.Status
	} else if s, ok := unmodelledErrors[code]; ok {
		status = s
	}
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &awsError{Code: code, Status: status, Message: msg}
}

// unmodelledErrors are error types AWS answers that the model does not list.
var unmodelledErrors = map[string]int{
	"ValidationException":            http.StatusBadRequest,
	"RequestEntityTooLargeException": http.StatusRequestEntityTooLarge,
	"SerializationException":         http.StatusBadRequest,
	"UnknownOperationException":      http.StatusNotFound,
	"MethodNotAllowedException":      http.StatusMethodNotAllowed,
	"AccessDeniedException":          http.StatusForbidden,
}

// One constructor per error kind, so messages and statuses match everywhere.

func errNotFound(format string, args ...any) *awsError {
	return newError("ResourceNotFoundException", format, args...)
}

func errFunctionNotFound(arn string) *awsError {
	return errNotFound("Function not found: %s", arn)
}

func errInvalidParameter(format string, args ...any) *awsError {
	return newError("InvalidParameterValueException", format, args...)
}

func errConflict(format string, args ...any) *awsError {
	return newError("ResourceConflictException", format, args...)
}

func errMethodNotAllowed(r *http.Request) *awsError {
	return newError("MethodNotAllowedException", "%s is not allowed on %s", r.Method, r.URL.Path)
}

// errUnparsableBody is AWS's answer to a body that is not the JSON it wants.
func errUnparsableBody(err error) *awsError {
	return newError("InvalidRequestContentException", "Could not parse request body into json: %s", jsonErrorText(err))
}

func errPreconditionFailed() *awsError {
	return newError("PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
}

// validationError collects smithy constraint violations into AWS's
// "N validation error(s) detected: ..." message.
type validationError struct{ problems []string }

// add records that value at member failed constraint.
func (v *validationError) add(value, member, constraint string) {
	v.problems = append(v.problems, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: %s", value, member, constraint))
}

// null records that member, which the model requires, was not sent.
func (v *validationError) null(member string) {
	v.problems = append(v.problems, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", member))
}

// errNull is AWS's ValidationException for one required member not sent.
func errNull(member string) error {
	var v validationError
	v.null(member)
	return v.err()
}

func (v *validationError) err() error {
	switch len(v.problems) {
	case 0:
		return nil
	case 1:
		return newError("ValidationException", "1 validation error detected: %s", v.problems[0])
	default:
		return newError("ValidationException", "%d validation errors detected: %s", len(v.problems), strings.Join(v.problems, "; "))
	}
}

// writeError renders err. Errors that are not awsErrors are internal: they are
// logged by the caller and answered as a ServiceException without details.
func writeError(w http.ResponseWriter, err error) {
	var ae *awsError
	if !errors.As(err, &ae) {
		ae = &awsError{Code: "ServiceException", Status: http.StatusInternalServerError, Message: "lamb: internal error"}
	}
	field := "message"
	body := map[string]string{}
	if s, ok := errorShapes[ae.Code]; ok {
		field = s.MessageField
		body["Type"] = "User"
		if ae.Status >= 500 {
			body["Type"] = "Service"
		}
		if ae.NoType {
			delete(body, "Type")
		}
	}
	if ae.Message != "" {
		body[field] = ae.Message
	}
	if ae.Reason != "" {
		body["Reason"] = ae.Reason
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", ae.Code)
	w.WriteHeader(ae.Status)
	_ = json.NewEncoder(w).Encode(body)
}

// writeJSON answers v as the JSON body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// reply answers v as the JSON body with the operation's success status: the
// last step of most handlers.
func reply(w http.ResponseWriter, c *call, v any) error {
	writeJSON(w, c.Op.successCode(), v)
	return nil
}

// replyEmpty answers the operation's success status without a body (its 204).
func replyEmpty(w http.ResponseWriter, c *call) error {
	w.WriteHeader(c.Op.successCode())
	return nil
}
