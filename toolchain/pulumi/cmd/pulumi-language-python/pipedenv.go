package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

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
