package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

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
