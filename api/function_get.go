package api

import "net/http"

// getFunctionOutput is GetFunction's answer.
type getFunctionOutput struct {
	Configuration functionConfiguration `json:"Configuration"`
	Code          functionCodeLocation  `json:"Code"`
	Tags          map[string]string     `json:"Tags,omitempty"`
	Concurrency   *concurrency          `json:"Concurrency,omitempty"`
}

type functionCodeLocation struct {
	RepositoryType   string `json:"RepositoryType"`
	Location         string `json:"Location,omitempty"`
	ImageURI         string `json:"ImageUri,omitempty"`
	ResolvedImageURI string `json:"ResolvedImageUri,omitempty"`
}

type concurrency struct {
	ReservedConcurrentExecutions int32 `json:"ReservedConcurrentExecutions"`
}

// getFunction serves GetFunction.
func (s *Server) getFunction(w http.ResponseWriter, r *http.Request, c *call) error {
	f, err := s.lookupFunction(r.Context(), c)
	if err != nil {
		return err
	}
	out := getFunctionOutput{Configuration: f.configuration(), Tags: f.Tags}
	if f.PackageType == packageImage {
		out.Code = functionCodeLocation{RepositoryType: "ECR", ImageURI: f.ImageURI, ResolvedImageURI: resolvedImageURI(f.ImageURI, f.CodeSHA256)}
	} else if f.CodeDir != "" {
		out.Code = hotReloadLocation(f) // hot_reload.go
	} else {
		out.Code = functionCodeLocation{RepositoryType: "S3", Location: codeURL(r, f.CodeSHA256Hex)}
	}
	if f.ReservedConcurrency != nil {
		out.Concurrency = &concurrency{ReservedConcurrentExecutions: *f.ReservedConcurrency}
	}
	return reply(w, c, out)
}

// getFunctionConfiguration serves GetFunctionConfiguration.
func (s *Server) getFunctionConfiguration(w http.ResponseWriter, r *http.Request, c *call) error {
	f, err := s.lookupFunction(r.Context(), c)
	if err != nil {
		return err
	}
	return reply(w, c, f.configuration())
}
