package process

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lambhq/lamb/runtimes"
)

// The java runtimes run lamb's java bootstrap (runtimes/java), which lamb
// ships as sources: it is compiled with the host's javac at the first start
// of a java function of each server (about a second), into
// WorkDir/runtime-java/<sum of the sources>, and checked before each later
// start as the other bootstraps are (a function running as lamb's user could
// change it).

// javaBootstrap is the compiled java bootstrap of one Backend.
type javaBootstrap struct {
	mu  sync.Mutex
	dir string   // the classes; "" until compiled
	m   manifest // dir as compiled
}

// javaClasses returns the folder of the compiled java bootstrap, compiling
// it with the javac beside java (else on PATH) when it is not yet, or was
// changed since.
func (b *Backend) javaClasses(java string) (string, error) {
	j := &b.java
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.dir != "" {
		err := j.m.check(j.dir)
		if err == nil {
			return j.dir, nil
		}
		b.log.Warn("process backend: lamb's java bootstrap changed; compiling it again", "dir", j.dir, "change", err)
		j.dir = ""
	}
	files, sum := runtimes.JavaSources()
	root := filepath.Join(b.cfg.WorkDir, "runtime-java")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("process backend: java bootstrap: %w", err)
	}
	if err := os.Chmod(root, 0o755); err != nil {
		return "", fmt.Errorf("process backend: java bootstrap: %w", err)
	}
	javac, err := findJavac(java)
	if err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(root, ".build-")
	if err != nil {
		return "", fmt.Errorf("process backend: java bootstrap: %w", err)
	}
	defer os.RemoveAll(tmp)
	names := make([]string, 0, len(files))
	for name, content := range files {
		p := filepath.Join(tmp, "src", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", fmt.Errorf("process backend: java bootstrap: %w", err)
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			return "", fmt.Errorf("process backend: java bootstrap: %w", err)
		}
		names = append(names, p)
	}
	sort.Strings(names)
	classes := filepath.Join(tmp, "classes")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	args := append([]string{"--release", "17", "-nowarn", "-d", classes}, names...)
	if out, err := exec.CommandContext(ctx, javac, args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("process backend: compiling lamb's java bootstrap with %s (a JDK 17 or newer is needed): %w: %s", javac, err, strings.TrimSpace(string(out)))
	}
	// Readable by every function uid; writable by none.
	err = filepath.Walk(classes, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.IsDir() {
			return os.Chmod(p, 0o755)
		}
		return os.Chmod(p, 0o644)
	})
	if err != nil {
		return "", fmt.Errorf("process backend: java bootstrap: %w", err)
	}
	dir := filepath.Join(root, sum)
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("process backend: java bootstrap: %w", err)
	}
	if err := os.Rename(classes, dir); err != nil {
		return "", fmt.Errorf("process backend: java bootstrap: %w", err)
	}
	m, err := snapshot(dir)
	if err != nil {
		return "", fmt.Errorf("process backend: java bootstrap: %w", err)
	}
	m.settle()
	j.dir, j.m = dir, m
	b.log.Info("process backend: compiled lamb's java bootstrap", "javac", javac, "dir", dir, "took", time.Since(start).Round(time.Millisecond))
	return dir, nil
}

// findJavac is the javac of java's JDK, else the one on PATH.
func findJavac(java string) (string, error) {
	if real, err := filepath.EvalSymlinks(java); err == nil {
		p := filepath.Join(filepath.Dir(real), "javac")
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	if p, err := exec.LookPath("javac"); err == nil {
		return filepath.Abs(p)
	}
	return "", fmt.Errorf("%w: the java runtimes need javac (a JDK 17 or newer, e.g. Debian's openjdk-17-jdk-headless) to compile lamb's java bootstrap", ErrUnsupported)
}

// javaWant is the version a java runtime promises as `java --version`
// prints it: "17" for java17, "1.8" for java8 and java8.al2.
func javaWant(id string) string {
	v := strings.TrimPrefix(id, "java")
	if v == "8" || strings.HasPrefix(v, "8.") {
		return "1.8"
	}
	return v
}

// versionedJava finds a JVM of version want besides the default: in
// $JAVA_HOME, else among /usr/lib/jvm's (Debian's and Temurin's packages).
func versionedJava(want string) (path, version string) {
	var cands []string
	if h := os.Getenv("JAVA_HOME"); h != "" {
		cands = append(cands, filepath.Join(h, "bin", "java"))
	}
	more, _ := filepath.Glob("/usr/lib/jvm/*/bin/java")
	sort.Strings(more)
	cands = append(cands, more...)
	for _, p := range cands {
		if fi, err := os.Stat(p); err != nil || fi.Mode()&0o111 == 0 {
			continue
		}
		if v := interpreterVersion(p); versionMatches(v, want) {
			return p, v
		}
	}
	return "", ""
}
