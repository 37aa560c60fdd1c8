// Command pulumi-language-python is secrets-platform's own Python language
// host for the Pulumi engine.
//
// Why it exists: Pulumi's language host module
// (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3) has no
// tags and the module proxy this project can reach refuses every
// pseudo-version of it (see toolchain/README.md). Everything the host needs
// besides its own main package ships in github.com/pulumi/pulumi/sdk/v3: the
// gRPC protocol, the plugin serving helpers and the
// pulumi-language-python-exec script that actually runs a program. This package
// is the thin gRPC adapter between the two, written for this project (one
// file per concern: interpreter.go, plugins.go, run.go, dependencies.go,
// pipedenv.go).
//
// It supports what the project uses: running programs from a virtualenv
// (runtime option `virtualenv`, or the active VIRTUAL_ENV, or python3 on
// PATH), reporting required provider plugins from installed packages'
// pulumi-plugin.json, running Python policy packs (`python -m
// pulumi.policy`) and Python plugins through RunPlugin, `pulumi about`, and a
// pip-based InstallDependencies. Other toolchains (uv, poetry) and code
// generation (convert, package gen-sdk) are not supported.
package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// execScriptName is the Python driver that sits beside this binary.
const execScriptName = "pulumi-language-python-exec"

// pipedEnvSource runs before every Python target the host starts and loads
// the variables handed over by pipe (see runWithPipedEnv).
//
//go:embed piped_env.py
var pipedEnvSource string

// pipedEnvNames are the variables never put in a child's environment: the
// stack config grows with the stack and Linux refuses any one environment
// string over 128 KiB at exec time (MAX_ARG_STRLEN, "argument list too
// long"; pulumi/pulumi#8680 for programs, #20402 for policy packs).
var pipedEnvNames = []string{"PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS"}

// pipedEnvFDVar names the child's descriptor that carries them.
const pipedEnvFDVar = "SECRETS_PLATFORM_PIPED_ENV_FD"

// engineCheckInterval is how often the host asks the engine whether it is
// still there, and stops serving once it is not: an engine killed halfway
// (SIGKILL, an OOM kill, a closed CI job) never stops its plugins, and a host
// left serving would stay until the machine restarts. Pulumi's own language
// hosts run the same check (rpcutil.Healthcheck) every 5 minutes.
const engineCheckInterval = 5 * time.Second

// bailExitCode is what the exec script exits with after it has already shown
// the user an actionable error; the engine is told to bail without adding
// another message.
const bailExitCode = 32

func main() {
	flags := flag.NewFlagSet("pulumi-language-python", flag.ContinueOnError)
	tracing := flags.String("tracing", "", "emit tracing to a Zipkin-compatible endpoint")
	_ = flags.String("root", "", "project root (accepted for compatibility, unused)")
	_ = flags.Bool("logtostderr", false, "accepted for compatibility, unused")
	_ = flags.Int("v", 0, "accepted for compatibility, unused")
	if err := flags.Parse(os.Args[1:]); err != nil {
		cmdutil.Exit(err)
	}
	engineAddress := ""
	if args := flags.Args(); len(args) > 0 {
		engineAddress = args[len(args)-1]
	}

	self, err := os.Executable()
	if err != nil {
		cmdutil.Exit(fmt.Errorf("locating own executable: %w", err))
	}
	if resolved, err := filepath.EvalSymlinks(self); err == nil {
		self = resolved
	}
	execScript := filepath.Join(filepath.Dir(self), execScriptName)
	if _, err := os.Stat(execScript); err != nil {
		cmdutil.Exit(fmt.Errorf("missing executor %s beside %s: %w", execScriptName, self, err))
	}

	host := &pythonHost{engineAddress: engineAddress, tracing: *tracing, execScript: execScript}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := make(chan bool)
	go func() {
		<-ctx.Done()
		close(stop)
	}()
	if engineAddress != "" {
		if err := rpcutil.Healthcheck(ctx, engineAddress, engineCheckInterval, cancel); err != nil {
			cmdutil.Exit(fmt.Errorf("could not check the engine at %s: %w", engineAddress, err))
		}
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: stop,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start language host RPC server: %w", err))
	}
	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host RPC stopped serving: %w", err))
	}
}

type pythonHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	tracing       string
	execScript    string
}
