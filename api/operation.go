package api

// operation is one operation of the Lambda model and its HTTP binding.
type operation struct {
	Name   string
	Method string
	URI    string // may carry a literal query, e.g. "/2018-10-31/layers?find=LayerVersion"
	Code   int    // success status; 0 when the model leaves it to Smithy's default (200)
}

// errorShape is what the model says about one error type.
type errorShape struct {
	Status       int
	MessageField string // JSON member carrying the message: "Message" or "message"
}

// successCode is the status a handler answers on success.
func (o *operation) successCode() int {
	if o.Code == 0 {
		return 200
	}
	return o.Code
}
