package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
)

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
