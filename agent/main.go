package agent

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/lambhq/lamb/agent/agentapi"
)

// Main runs the agent from command-line arguments (those after `lamb agent`)
// and returns the process's exit status:
//
//	lamb agent [--listen :9009] [--endpoint 127.0.0.1:3001] [--try /var/task/bootstrap]... [--dir /var/task] [--deferred] [-- command args...]
//	lamb agent --hold
//
// The secret the host's requests must carry comes in the environment
// (agentapi.EnvSecret). With --hold it runs nothing and waits for
// SIGTERM/SIGINT: a container that only holds a network namespace for
// another to join. With --deferred the runtime starts only at the host's
// POST /v1/start (Config.Deferred). agentapi.EnvLease, when set, is the agent's lease
// (Config.Lease).
func Main(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", ":"+strconv.Itoa(agentapi.DefaultPort), "host API address")
	endpoint := fs.String("endpoint", "", "address to serve lamb's API on for the function, through tunnels to the host (e.g. "+agentapi.EndpointAddr+")")
	dir := fs.String("dir", "", "working directory of the runtime")
	hold := fs.Bool("hold", false, "only wait for SIGTERM/SIGINT (a network holder)")
	deferred := fs.Bool("deferred", false, "start the runtime only when the host sends its environment (a sandbox started ahead)")
	var try multiFlag
	fs.Var(&try, "try", "a bootstrap path to run if it exists (repeatable; used when no command is given)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *hold {
		<-ctx.Done()
		return 0
	}
	// The agent serves one invocation at a time: one P spares the wake-ups of
	// idle Ps spinning for work at each hand-off (the runtime's /next, its
	// answer, the host's read), a third of the agent's CPU per invoke.
	runtime.GOMAXPROCS(1)
	// The secret leaves the environment before anything else can read it,
	// and the agent's /proc files (environ, mem) become unreadable to the
	// runtime, which runs as the same user without capabilities.
	secret := os.Getenv(agentapi.EnvSecret)
	_ = os.Unsetenv(agentapi.EnvSecret)
	var lease time.Duration
	if v := os.Getenv(agentapi.EnvLease); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			fmt.Fprintf(stderr, "agent: %s=%q: want a duration such as 5s\n", agentapi.EnvLease, v)
			return 2
		}
		lease = d
	}
	_ = os.Unsetenv(agentapi.EnvLease)
	if err := protectProcess(); err != nil {
		fmt.Fprintln(stderr, "agent:", err)
		return 1
	}
	code, err := Run(ctx, Config{Listen: *listen, Endpoint: *endpoint, Dir: *dir, Try: try, Command: fs.Args(), Secret: secret, Lease: lease, Deferred: *deferred})
	if err != nil {
		fmt.Fprintln(stderr, err)
	}
	return code
}

type multiFlag []string

func (m *multiFlag) String() string     { return fmt.Sprint(*m) }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
