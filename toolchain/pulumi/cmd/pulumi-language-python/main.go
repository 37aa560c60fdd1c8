// Command pulumi-language-python is secrets-platform's own Python language
// host for the Pulumi engine.
//
// Why it exists: Pulumi's language host module
// (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3) has no
// tags and the module proxy this project can reach refuses every
// pseudo-version of it (see toolchain/README.md). Everything the host needs
// besides its own main package ships in github.com/pulumi/pulumi/sdk/v3: the
// gRPC protocol, the plugin serving helpers and the
// pulumi-language-python-exec script that actually runs a program. This file
// is the thin gRPC adapter between the two, written for this project.
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
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
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

// ---------------------------------------------------------------------------
// Locating Python

// interpreter describes the Python the host runs programs with.
type interpreter struct {
	python     string // path of the python executable
	virtualenv string // virtualenv directory, empty when using python from PATH
}

func optionString(info *pulumirpc.ProgramInfo, key string) string {
	if info == nil || info.GetOptions() == nil {
		return ""
	}
	if v, ok := info.GetOptions().GetFields()[key]; ok {
		if s, ok := v.GetKind().(*structpb.Value_StringValue); ok {
			return s.StringValue
		}
	}
	return ""
}

func venvPython(dir string) string {
	if runtime.GOOS == "windows" {
		return filepath.Join(dir, "Scripts", "python.exe")
	}
	return filepath.Join(dir, "bin", "python")
}

// findInterpreter resolves the interpreter for a program: the `virtualenv`
// runtime option (relative paths are relative to the project root), else the
// active VIRTUAL_ENV, else python3/python on PATH.
func findInterpreter(info *pulumirpc.ProgramInfo) (interpreter, error) {
	if tc := optionString(info, "toolchain"); tc != "" && tc != "pip" {
		return interpreter{}, fmt.Errorf("python toolchain %q is not supported by this language host (use pip with a virtualenv)", tc)
	}
	if venv := optionString(info, "virtualenv"); venv != "" {
		if !filepath.IsAbs(venv) && info != nil {
			venv = filepath.Join(info.GetRootDirectory(), venv)
		}
		py := venvPython(venv)
		if _, err := os.Stat(py); err != nil {
			return interpreter{}, fmt.Errorf("the virtualenv %s has no python interpreter (%s); create it and install the requirements", venv, py)
		}
		return interpreter{python: py, virtualenv: venv}, nil
	}
	if venv := os.Getenv("VIRTUAL_ENV"); venv != "" {
		if py := venvPython(venv); fileExists(py) {
			return interpreter{python: py, virtualenv: venv}, nil
		}
	}
	for _, name := range []string{"python3", "python"} {
		if py, err := exec.LookPath(name); err == nil {
			return interpreter{python: py}, nil
		}
	}
	return interpreter{}, errors.New("no python3 or python found on PATH and no virtualenv configured")
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// environ returns env with the interpreter's virtualenv activated.
func (in interpreter) environ(env []string) []string {
	if in.virtualenv == "" {
		return env
	}
	bin := filepath.Dir(in.python)
	out := make([]string, 0, len(env)+2)
	pathSet := false
	for _, kv := range env {
		switch {
		case strings.HasPrefix(kv, "VIRTUAL_ENV="), strings.HasPrefix(kv, "PYTHONHOME="):
			continue
		case strings.HasPrefix(kv, "PATH="):
			out = append(out, "PATH="+bin+string(os.PathListSeparator)+strings.TrimPrefix(kv, "PATH="))
			pathSet = true
		default:
			out = append(out, kv)
		}
	}
	if !pathSet {
		out = append(out, "PATH="+bin)
	}
	return append(out, "VIRTUAL_ENV="+in.virtualenv)
}

func (in interpreter) command(ctx context.Context, dir string, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, in.python, args...)
	cmd.Dir = dir
	cmd.Env = in.environ(env)
	return cmd
}

func programDir(info *pulumirpc.ProgramInfo, fallback string) string {
	if info != nil && info.GetProgramDirectory() != "" {
		return info.GetProgramDirectory()
	}
	return fallback
}

// ---------------------------------------------------------------------------
// Plugin metadata

func (h *pythonHost) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *pythonHost) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

func (h *pythonHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// listPluginsScript prints, as JSON, the pulumi-plugin.json of every
// installed distribution that declares a resource plugin.
const listPluginsScript = `
import json, sys
from importlib import metadata
found = []
for dist in metadata.distributions():
    for f in dist.files or []:
        if f.name != "pulumi-plugin.json":
            continue
        try:
            data = json.loads(f.read_text())
        except Exception:
            continue
        if not isinstance(data, dict) or not data.get("resource"):
            continue
        name = dist.metadata.get("Name") or ""
        if not data.get("name"):
            n = name.replace("-", "_")
            data["name"] = n[len("pulumi_"):] if n.startswith("pulumi_") else n
        data.setdefault("version", dist.version)
        found.append(data)
json.dump(found, sys.stdout)
`

type pluginJSON struct {
	Name             string `json:"name"`
	Version          string `json:"version"`
	Server           string `json:"server"`
	Parameterization *struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Value   []byte `json:"value"` // base64 in the file
	} `json:"parameterization"`
}

func (h *pythonHost) requiredPackages(ctx context.Context, info *pulumirpc.ProgramInfo) ([]*pulumirpc.PackageDependency, error) {
	in, err := findInterpreter(info)
	if err != nil {
		return nil, err
	}
	cmd := in.command(ctx, programDir(info, "."), os.Environ(), "-c", listPluginsScript)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing installed Pulumi packages with %s: %w: %s", in.python, err, stderr.String())
	}
	var plugins []pluginJSON
	if err := json.Unmarshal(out, &plugins); err != nil {
		return nil, fmt.Errorf("reading installed Pulumi packages: %w", err)
	}
	deps := make([]*pulumirpc.PackageDependency, 0, len(plugins))
	for _, p := range plugins {
		v := p.Version
		if v != "" && !strings.HasPrefix(v, "v") {
			v = "v" + v
		}
		dep := &pulumirpc.PackageDependency{Name: p.Name, Kind: "resource", Version: v, Server: p.Server}
		if pz := p.Parameterization; pz != nil {
			pv := pz.Version
			if pv != "" && !strings.HasPrefix(pv, "v") {
				pv = "v" + pv
			}
			dep.Parameterization = &pulumirpc.PackageParameterization{Name: pz.Name, Version: pv, Value: pz.Value}
		}
		deps = append(deps, dep)
	}
	return deps, nil
}

func (h *pythonHost) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	deps, err := h.requiredPackages(ctx, req.GetInfo())
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: deps}, nil
}

func (h *pythonHost) GetRequiredPlugins(
	ctx context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	deps, err := h.requiredPackages(ctx, req.GetInfo())
	if err != nil {
		return nil, err
	}
	plugins := make([]*pulumirpc.PluginDependency, 0, len(deps))
	for _, d := range deps {
		if d.GetParameterization() != nil {
			continue // parameterized packages cannot be expressed as plain plugins
		}
		plugins = append(plugins, &pulumirpc.PluginDependency{
			Name: d.GetName(), Kind: d.GetKind(), Version: d.GetVersion(), Server: d.GetServer(),
		})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

// ---------------------------------------------------------------------------
// Running programs

func (h *pythonHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	in, err := findInterpreter(req.GetInfo())
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	program := req.GetProgram()
	if info := req.GetInfo(); info != nil && info.GetProgramDirectory() != "" {
		entry := info.GetEntryPoint()
		if entry == "" {
			entry = "."
		}
		program = filepath.Join(info.GetProgramDirectory(), entry)
	}
	if program == "" {
		program = "."
	}

	args := []string{"-u", h.execScript}
	add := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engine())
	add("project", req.GetProject())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	add("dry_run", fmt.Sprintf("%v", req.GetDryRun()))
	add("parallel", fmt.Sprint(req.GetParallel()))
	add("tracing", h.tracing)
	add("organization", req.GetOrganization())
	if info := req.GetInfo(); info != nil {
		add("root_directory", info.GetRootDirectory())
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	config := req.GetConfig()
	if config == nil {
		config = map[string]string{} // the SDK expects an object, never null
	}
	configJSON, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	env, _ := splitPipedEnv(os.Environ())
	piped := map[string]string{
		"PULUMI_CONFIG":             string(configJSON),
		"PULUMI_CONFIG_SECRET_KEYS": string(secretKeysJSON),
	}

	cmd := in.command(ctx, req.GetPwd(), env, pythonArgs(args)...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := runWithPipedEnv(cmd, piped); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == bailExitCode {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run %s: %v", in.python, err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// streamWriter forwards a child's output to a gRPC stream.
type streamWriter struct {
	mu   *sync.Mutex
	send func([]byte) error
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	buf := make([]byte, len(p))
	copy(buf, p)
	if err := w.send(buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// RunPlugin runs a Python plugin: a policy pack (kind "analyzer") through
// the pulumi SDK's policy runner, anything else as `python <dir> args...`.
func (h *pythonHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	ctx := server.Context()
	info := req.GetInfo()
	in, err := findInterpreter(info)
	if err != nil {
		return err
	}
	dir := programDir(info, req.GetProgram())
	if dir == "" {
		return status.Error(codes.InvalidArgument, "RunPlugin needs a program directory")
	}

	var args []string
	if req.GetKind() == "analyzer" {
		args = append([]string{"-u", "-m", "pulumi.policy"}, req.GetArgs()...)
		args = append(args, dir)
	} else {
		args = append([]string{"-u", dir}, req.GetArgs()...)
	}

	env := req.GetEnv()
	if len(env) == 0 {
		env = os.Environ()
	}
	env, piped := splitPipedEnv(env)
	pwd := req.GetPwd()
	if pwd == "" {
		pwd = dir
	}
	cmd := in.command(ctx, pwd, env, pythonArgs(args)...)
	var mu sync.Mutex
	cmd.Stdout = streamWriter{&mu, func(b []byte) error {
		return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}})
	}}
	cmd.Stderr = streamWriter{&mu, func(b []byte) error {
		return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}})
	}}
	code := int32(0)
	if err := runWithPipedEnv(cmd, piped); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return fmt.Errorf("could not run python plugin in %s: %w", dir, err)
		}
		code = int32(exitErr.ExitCode())
	}
	mu.Lock()
	defer mu.Unlock()
	return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code}})
}

// ---------------------------------------------------------------------------
// Dependencies and about

// InstallDependencies creates the configured virtualenv if it is missing and
// installs requirements.txt into it with pip.
func (h *pythonHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	ctx := server.Context()
	info := req.GetInfo()
	dir := programDir(info, req.GetDirectory())
	var mu sync.Mutex
	stdout := streamWriter{&mu, func(b []byte) error {
		return server.Send(&pulumirpc.InstallDependenciesResponse{Stdout: b})
	}}
	stderr := streamWriter{&mu, func(b []byte) error {
		return server.Send(&pulumirpc.InstallDependenciesResponse{Stderr: b})
	}}

	in, err := findInterpreter(info)
	if err != nil {
		venv := optionString(info, "virtualenv")
		if venv == "" {
			return err
		}
		if !filepath.IsAbs(venv) && info != nil {
			venv = filepath.Join(info.GetRootDirectory(), venv)
		}
		base, lookErr := exec.LookPath("python3")
		if lookErr != nil {
			return err
		}
		fmt.Fprintf(stdout, "Creating virtual environment %s\n", venv)
		mk := exec.CommandContext(ctx, base, "-m", "venv", venv)
		mk.Stdout, mk.Stderr = stdout, stderr
		if err := mk.Run(); err != nil {
			return fmt.Errorf("creating virtualenv %s: %w", venv, err)
		}
		if in, err = findInterpreter(info); err != nil {
			return err
		}
	}
	reqs := filepath.Join(dir, "requirements.txt")
	if !fileExists(reqs) {
		fmt.Fprintf(stdout, "No requirements.txt in %s; nothing to install\n", dir)
		return nil
	}
	pip := in.command(ctx, dir, os.Environ(), "-m", "pip", "install", "-r", reqs)
	pip.Stdout, pip.Stderr = stdout, stderr
	if err := pip.Run(); err != nil {
		return fmt.Errorf("pip install -r %s: %w", reqs, err)
	}
	return nil
}

func (h *pythonHost) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	in, err := findInterpreter(req.GetInfo())
	if err != nil {
		return nil, err
	}
	out, err := in.command(ctx, ".", os.Environ(), "-c",
		"import platform; print(platform.python_version())").Output()
	if err != nil {
		return nil, fmt.Errorf("asking %s for its version: %w", in.python, err)
	}
	meta := map[string]string{}
	if in.virtualenv != "" {
		meta["virtualenv"] = in.virtualenv
	}
	return &pulumirpc.AboutResponse{
		Executable: in.python,
		Version:    strings.TrimSpace(string(out)),
		Metadata:   meta,
	}, nil
}

func (h *pythonHost) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	in, err := findInterpreter(req.GetInfo())
	if err != nil {
		return nil, err
	}
	script := "import json, sys\nfrom importlib import metadata\n" +
		"json.dump(sorted({(d.metadata.get('Name') or '', d.version) for d in metadata.distributions()}), sys.stdout)"
	cmd := in.command(ctx, programDir(req.GetInfo(), "."), os.Environ(), "-c", script)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing installed packages: %w: %s", err, stderr.String())
	}
	var pairs [][2]string
	if err := json.NewDecoder(bytes.NewReader(out)).Decode(&pairs); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	deps := make([]*pulumirpc.DependencyInfo, 0, len(pairs))
	for _, p := range pairs {
		if p[0] != "" {
			deps = append(deps, &pulumirpc.DependencyInfo{Name: p[0], Version: p[1]})
		}
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

// ---------------------------------------------------------------------------
// Handing the stack config over by pipe

// pythonArgs puts the piped-environment loader in front of the interpreter
// arguments: `-u <script> a b` becomes `-u -c <loader> <script> a b`, and
// `-u -m <module> a b` becomes `-u -c <loader> -m <module> a b`.
func pythonArgs(args []string) []string {
	out := make([]string, 0, len(args)+2)
	if len(args) > 0 && args[0] == "-u" {
		out = append(out, "-u")
		args = args[1:]
	}
	out = append(out, "-c", pipedEnvSource)
	return append(out, args...)
}

// splitPipedEnv removes the piped variables from env and returns them apart.
func splitPipedEnv(env []string) ([]string, map[string]string) {
	kept := make([]string, 0, len(env))
	piped := map[string]string{}
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		isPiped := name == pipedEnvFDVar
		for _, p := range pipedEnvNames {
			if name == p {
				isPiped = true
				if value != "" {
					piped[name] = value
				}
			}
		}
		if !isPiped {
			kept = append(kept, kv)
		}
	}
	return kept, piped
}

// runWithPipedEnv runs cmd with the piped variables on an inherited pipe (the
// child's descriptor 3), written as one JSON object the loader reads before
// anything else runs. The pipe never touches the file system. A child that
// exits before reading (it failed to start) is reported by its exit status,
// not by the broken pipe.
func runWithPipedEnv(cmd *exec.Cmd, piped map[string]string) error {
	payload, err := json.Marshal(piped)
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("creating the config pipe: %w", err)
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, r)
	cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%d", pipedEnvFDVar, 2+len(cmd.ExtraFiles)))
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return err
	}
	r.Close()
	written := make(chan error, 1)
	go func() {
		_, err := w.Write(payload)
		w.Close()
		written <- err
	}()
	waitErr := cmd.Wait()
	writeErr := <-written
	if waitErr != nil {
		return waitErr
	}
	if writeErr != nil {
		return fmt.Errorf("handing the stack config to python: %w", writeErr)
	}
	return nil
}
