// Command gen reads AWS's Smithy model of the Lambda API and writes the routing
// and error tables the api package serves from (api/model_gen.go).
//
// Run it from the repository root:
//
//	go run ./api/internal/gen -model ../shared/aws-models/lambda.json -out api/model_gen.go
//
// or `go generate ./api/`.
package main

import (
	"flag"
	"log"
	"os"

	"github.com/lambhq/lamb/api/internal/modelgen"
)

func main() {
	modelPath := flag.String("model", "../shared/aws-models/lambda.json", "path to the Smithy JSON model")
	out := flag.String("out", "api/model_gen.go", "Go file to write")
	flag.Parse()

	raw, err := os.ReadFile(*modelPath)
	if err != nil {
		log.Fatal(err)
	}
	src, err := modelgen.Generate(raw)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}
