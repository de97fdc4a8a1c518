// Command httpecho is the benchmarks' floor: a loopback HTTP server that
// answers every request with its body, as a JSON response. It is what any
// local invoke costs at least (one HTTP exchange on the same client), with
// nothing behind it. It listens on the address of its one argument.
package main

import (
	"io"
	"log"
	"net/http"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: httpecho ADDR")
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	log.Fatal(http.ListenAndServe(os.Args[1], h))
}
