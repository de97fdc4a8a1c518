// Package importrules holds no code: its test keeps the import rules of
// docs/architecture.md true. The engine never imports the API or the store,
// backends never import each other, the agent never imports the engine, and
// the Runtime API imports neither the engine nor the API. It reads the
// package graph from `go list -deps` for Linux, macOS and Windows (build tags
// can add imports on one of them), so a forbidden import fails `go test`
// naming the edge that breaks the rule.
package importrules
