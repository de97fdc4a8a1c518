package runtimes

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestJavaSources(t *testing.T) {
	files, sum := JavaSources()
	for _, want := range []string{"lamb/runtime/Bootstrap.java", "lamb/runtime/Handler.java", "lamb/runtime/Json.java",
		"com/amazonaws/services/lambda/runtime/Context.java", "com/amazonaws/services/lambda/runtime/RequestHandler.java",
		"com/amazonaws/services/lambda/runtime/RequestStreamHandler.java"} {
		if len(files[want]) == 0 {
			t.Errorf("no %s in the embedded sources", want)
		}
	}
	for name := range files {
		if !strings.HasSuffix(name, ".java") {
			t.Errorf("embedded %s: only sources belong there (never compiled classes)", name)
		}
	}
	if _, again := JavaSources(); again != sum || len(sum) != 16 {
		t.Errorf("sum %q, then %q", sum, again)
	}
}

func TestJavaCommand(t *testing.T) {
	argv, err := Command(FamilyJava, Interpreters{Java: "/usr/bin/java"}, "/run/java", "/var/task")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(argv, " "); got != "/usr/bin/java -XX:+TieredCompilation -XX:TieredStopAtLevel=1 -cp /run/java lamb.runtime.Bootstrap" {
		t.Errorf("argv %s", got)
	}
	if _, err := Command(FamilyJava, Interpreters{}, "/run/java", "/var/task"); err == nil {
		t.Error("no java: no error")
	}
}

// TestJavaBootstrapUnit compiles the bootstrap with its Java-side unit tests
// (java/test: JSON, handler resolution, error documents) and runs them.
func TestJavaBootstrapUnit(t *testing.T) {
	javac, err := exec.LookPath("javac")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("javac not found (scripts/setup.sh installs openjdk-17-jdk-headless)")
		}
		t.Skip("javac not found: install a JDK 17 (openjdk-17-jdk-headless)")
	}
	var srcs []string
	for _, dir := range []string{"java/src", "java/test"} {
		err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && strings.HasSuffix(p, ".java") {
				srcs = append(srcs, p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	out := t.TempDir()
	if b, err := exec.Command(javac, append([]string{"--release", "17", "-g", "-Xlint:all", "-Werror", "-d", out}, srcs...)...).CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, b)
	}
	java := filepath.Join(filepath.Dir(javac), "java")
	b, err := exec.Command(java, "-cp", out, "lamb.runtime.BootstrapTest").CombinedOutput()
	if err != nil || strings.TrimSpace(string(b)) != "ok" {
		t.Fatalf("BootstrapTest: %v\n%s", err, b)
	}
}
