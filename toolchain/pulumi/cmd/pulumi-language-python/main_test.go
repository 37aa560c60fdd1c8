package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// probe prints what the child sees: the config's length, whether it is intact,
// the secret keys, and whether the descriptor variable is gone.
const probe = `import os, sys
config = os.environ.get("PULUMI_CONFIG", "")
print(len(config), config.endswith('"}'), os.environ.get("PULUMI_CONFIG_SECRET_KEYS"),
      "SECRETS_PLATFORM_PIPED_ENV_FD" in os.environ, sys.argv[1:])
`

func python(t *testing.T) interpreter {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not on PATH")
	}
	return interpreter{python: py}
}

// bigConfig is a stack config far over Linux's 128 KiB per environment string.
func bigConfig() string {
	return `{"secrets-platform:credentials":"` + strings.Repeat("x", 300_000) + `"}`
}

func TestSplitPipedEnvTakesOnlyTheConfig(t *testing.T) {
	kept, piped := splitPipedEnv([]string{
		"PATH=/bin", "PULUMI_CONFIG={}", "PULUMI_CONFIG_SECRET_KEYS=[]",
		"PULUMI_CONFIG_PASSPHRASE=p", "SECRETS_PLATFORM_PIPED_ENV_FD=9",
	})
	if strings.Join(kept, " ") != "PATH=/bin PULUMI_CONFIG_PASSPHRASE=p" {
		t.Fatalf("kept %q", kept)
	}
	if len(piped) != 2 || piped["PULUMI_CONFIG"] != "{}" || piped["PULUMI_CONFIG_SECRET_KEYS"] != "[]" {
		t.Fatalf("piped %q", piped)
	}
}

func TestAScriptGetsAConfigOverTheExecLimit(t *testing.T) {
	in := python(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "probe.py")
	if err := os.WriteFile(script, []byte(probe), 0o600); err != nil {
		t.Fatal(err)
	}
	config := bigConfig()
	cmd := in.command(context.Background(), dir, []string{"PATH=" + os.Getenv("PATH")},
		pythonArgs([]string{"-u", script, "a", "b"})...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	piped := map[string]string{"PULUMI_CONFIG": config, "PULUMI_CONFIG_SECRET_KEYS": `["k"]`}
	if err := runWithPipedEnv(cmd, piped); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	want := fmt.Sprint(len(config)) + " True [\"k\"] False ['a', 'b']\n"
	if out.String() != want {
		t.Fatalf("child saw %q, want %q", out.String(), want)
	}
	for _, kv := range cmd.Env {
		if strings.HasPrefix(kv, "PULUMI_CONFIG=") {
			t.Fatal("the config was put in the child's environment")
		}
	}
}

func TestAModuleRunsFromTheWorkingDirectory(t *testing.T) {
	in := python(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "probe.py"), []byte(probe), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := in.command(context.Background(), dir, []string{"PATH=" + os.Getenv("PATH")},
		pythonArgs([]string{"-u", "-m", "probe", "x"})...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := runWithPipedEnv(cmd, map[string]string{"PULUMI_CONFIG": "{}"}); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if want := "2 False None False ['x']\n"; out.String() != want {
		t.Fatalf("child saw %q, want %q", out.String(), want)
	}
}

func TestAChildThatExitsBeforeReadingReportsItsExitCode(t *testing.T) {
	in := python(t)
	cmd := in.command(context.Background(), t.TempDir(), nil, "-c", "import sys; sys.exit(3)")
	err := runWithPipedEnv(cmd, map[string]string{"PULUMI_CONFIG": bigConfig()})
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 3 {
		t.Fatalf("got %v, want exit status 3", err)
	}
}
