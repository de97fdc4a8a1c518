package importrules

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/lambhq/lamb/internal/testenv"
)

const module = "github.com/lambhq/lamb"

// rule: no package matched by pkgs may import (directly or not) a package
// under one of forbidden. Paths are relative to the module; "x/..." matches x
// and everything under it, as in go list.
type rule struct {
	pkgs      string
	forbidden []string
	why       string
}

var rules = []rule{
	{"engine/...", []string{"api", "store"},
		"the engine (and its backends) is embeddable: the REST API and its store are one user of it"},
	{"engine/backend/docker/...", []string{"engine/backend/kubernetes", "engine/backend/process"},
		"backends never import each other"},
	{"engine/backend/kubernetes/...", []string{"engine/backend/docker", "engine/backend/process"},
		"backends never import each other"},
	{"engine/backend/process/...", []string{"engine/backend/docker", "engine/backend/kubernetes"},
		"backends never import each other"},
	{"agent/...", []string{"engine"},
		"the agent runs in the sandbox and knows only its wire contract (agent/agentapi)"},
	{"template/...", []string{"api", "store", "engine"},
		"lamb deploy is a client of the Lambda API: lamb's state changes only through it"},
	{"eventsource/...", []string{"api", "engine", "store"},
		"the pollers know lamb only through their Host interface (the API implements it)"},
	{"functionurl/...", []string{"api", "store"},
		"the function URL gateway knows the API only through its Host interface (api/function_url_gateway.go implements it)"},
	{"destinations/...", []string{"api", "store"},
		"the destinations client builds and sends records; which destination an event has is the API's business"},
	{"runtimeapi/...", []string{"engine", "api"},
		"the Runtime API serves one sandbox and knows nothing of the engine or the REST API"},
}

// platforms are those lamb builds for (scripts/test.sh cross-compiles each).
var platforms = []struct{ goos, goarch string }{
	{"linux", "amd64"}, {"darwin", "arm64"}, {"windows", "amd64"},
}

func TestImportRules(t *testing.T) {
	goBin := testenv.LookPath(t, "go")
	for _, p := range platforms {
		t.Run(p.goos+"_"+p.goarch, func(t *testing.T) {
			g, err := loadGraph(goBin, p.goos, p.goarch)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rules {
				if len(g.match(r.pkgs)) == 0 {
					t.Errorf("rule for %s matches no package: update the rules", r.pkgs)
				}
				for _, v := range g.violations(r) {
					t.Error(v)
				}
			}
		})
	}
}

// graph maps each of the module's packages (path relative to the module) to
// the module's packages it imports directly, without tests.
type graph map[string][]string

func loadGraph(goBin, goos, goarch string) (graph, error) {
	cmd := exec.Command(goBin, "list", "-deps", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", module+"/...")
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list for %s/%s: %w\n%s", goos, goarch, err, stderr.Bytes())
	}
	return parseGraph(string(out)), nil
}

// parseGraph reads go list's lines "PKG IMPORT IMPORT ...", keeping the
// module's packages only.
func parseGraph(out string) graph {
	g := graph{}
	for line := range strings.Lines(out) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		pkg, ok := relative(fields[0])
		if !ok {
			continue
		}
		g[pkg] = nil
		for _, imp := range fields[1:] {
			if rel, ok := relative(imp); ok {
				g[pkg] = append(g[pkg], rel)
			}
		}
	}
	return g
}

func relative(path string) (string, bool) {
	if path == module {
		return ".", true
	}
	return strings.CutPrefix(path, module+"/")
}

// under reports whether pkg is prefix or a package below it.
func under(pkg, prefix string) bool {
	return pkg == prefix || strings.HasPrefix(pkg, prefix+"/")
}

// match returns the packages of pattern ("x" or "x/..."), sorted.
func (g graph) match(pattern string) []string {
	var out []string
	for pkg := range g {
		if base, ok := strings.CutSuffix(pattern, "/..."); ok && under(pkg, base) || pkg == pattern {
			out = append(out, pkg)
		}
	}
	slices.Sort(out)
	return out
}

// violations walks the imports of each package of r.pkgs and describes every
// forbidden package reached, with the chain of imports that reaches it.
func (g graph) violations(r rule) []string {
	var out []string
	for _, root := range g.match(r.pkgs) {
		parent := map[string]string{root: ""}
		queue := []string{root}
		for len(queue) > 0 {
			pkg := queue[0]
			queue = queue[1:]
			for _, imp := range g[pkg] {
				if _, seen := parent[imp]; seen {
					continue
				}
				parent[imp] = pkg
				if i := slices.IndexFunc(r.forbidden, func(f string) bool { return under(imp, f) }); i >= 0 {
					out = append(out, fmt.Sprintf("%s imports %s (%s): %s is forbidden under %s, because %s",
						root, imp, chain(parent, imp), r.forbidden[i], r.pkgs, r.why))
					continue // what it imports in turn is its own rule's business
				}
				queue = append(queue, imp)
			}
		}
	}
	return out
}

// chain spells the imports from the root to pkg: "a → b → pkg".
func chain(parent map[string]string, pkg string) string {
	path := []string{pkg}
	for p := parent[pkg]; p != ""; p = parent[p] {
		path = append(path, p)
	}
	slices.Reverse(path)
	return strings.Join(path, " → ")
}

// TestViolations checks the rule evaluator itself on a made-up graph: a rule
// that is broken, directly or through another package, must be reported.
func TestViolations(t *testing.T) {
	g := parseGraph(strings.Join([]string{
		module + "/engine " + module + "/engine/backend fmt",
		module + "/engine/backend",
		module + "/engine/backend/docker " + module + "/engine/agenthost " + module + "/runtimes",
		module + "/engine/agenthost " + module + "/engine/backend/process",
		module + "/engine/backend/process " + module + "/store",
		module + "/store go.etcd.io/bbolt",
		module + "/storefront", // a prefix of the name only: not under store
		module + "/agent " + module + "/storefront",
		"go.etcd.io/bbolt",
	}, "\n"))
	tests := []struct {
		r    rule
		want []string
	}{
		{rule{pkgs: "agent/...", forbidden: []string{"store"}, why: "test"}, nil},
		{rule{pkgs: "engine/backend/docker", forbidden: []string{"engine/backend/process"}, why: "test"}, []string{
			"engine/backend/docker imports engine/backend/process (engine/backend/docker → engine/agenthost → engine/backend/process)",
		}},
		{rule{pkgs: "engine/...", forbidden: []string{"store"}, why: "test"}, []string{
			"engine/agenthost imports store (engine/agenthost → engine/backend/process → store)",
			"engine/backend/docker imports store (engine/backend/docker → engine/agenthost → engine/backend/process → store)",
			"engine/backend/process imports store (engine/backend/process → store)",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.r.pkgs, func(t *testing.T) {
			got := g.violations(tc.r)
			if len(got) != len(tc.want) {
				t.Fatalf("violations = %q, want %d starting %q", got, len(tc.want), tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("violation %d = %q, want it to start %q", i, got[i], tc.want[i])
				}
			}
		})
	}
	if g.match("engine") == nil || len(g.match("engine/...")) != 5 {
		t.Errorf("match: engine = %q, engine/... = %q", g.match("engine"), g.match("engine/..."))
	}
}
