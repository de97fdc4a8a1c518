package runtimes

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"
)

// lamb's java bootstrap (java/src/lamb/runtime) and its own declarations of
// the interfaces of AWS's aws-lambda-java-core (java/src/com/amazonaws/...),
// as Java sources: they are compiled with javac where they are used (the
// process backend at a java function's first start, cached by JavaSources'
// sum; scripts/build-runtime-images.sh for the java image), never committed
// as classes.
//
//go:embed java/src
var javaSrc embed.FS

// JavaMainClass is the bootstrap's main class.
const JavaMainClass = "lamb.runtime.Bootstrap"

// JavaSources returns the java bootstrap's sources by path under src
// ("lamb/runtime/Bootstrap.java") and a sum of them all (hex), which names
// their compiled form. The map is the caller's.
func JavaSources() (files map[string][]byte, sum string) {
	files = map[string][]byte{}
	err := fs.WalkDir(javaSrc, "java/src", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := javaSrc.ReadFile(p)
		if err != nil {
			return err
		}
		files[p[len("java/src/"):]] = b
		return nil
	})
	if err != nil {
		panic(fmt.Sprintf("runtimes: embedded java sources: %v", err)) // embedded at build time
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s %d\n", n, len(files[n]))
		h.Write(files[n])
	}
	return files, hex.EncodeToString(h.Sum(nil))[:16]
}
