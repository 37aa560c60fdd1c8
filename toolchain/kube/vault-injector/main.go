// Command vault-injector serves the Vault Agent Injector's admission handler (package
// agent-inject of github.com/hashicorp/vault-k8s, pinned in toolchain/versions.txt) for the
// local cluster (secrets_platform/localcluster/injector.py starts it, and registers the webhook that calls it).
//
// Upstream's own command reads only in-cluster configuration and makes its own certificate;
// here the API server calls a process on the host: it listens on a loopback address with a
// certificate signed by the local cluster's CA, and the handler's flags map one to one to the
// fields of agent_inject.Handler. The handler never uses a Kubernetes client, so none is made.
// Every address it is given must be on 127.0.0.0/8: the local platform reaches nothing else.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	agentInject "github.com/hashicorp/vault-k8s/agent-inject"
	"github.com/hashicorp/vault-k8s/agent-inject/agent"
)

// options are the command line: where to listen, the TLS pair, and the handler's settings.
type options struct {
	listen, certFile, keyFile, logLevel string
	handler                             agentInject.Handler
}

func parse(args []string) (*options, error) {
	o := &options{}
	h := &o.handler
	fs := flag.NewFlagSet("vault-injector", flag.ContinueOnError)
	fs.StringVar(&o.listen, "listen", "", "address to serve on: 127.0.0.1:PORT (loopback only)")
	fs.StringVar(&o.certFile, "tls-cert-file", "", "PEM serving certificate (signed by the local cluster's CA)")
	fs.StringVar(&o.keyFile, "tls-key-file", "", "PEM private key of the serving certificate")
	fs.StringVar(&o.logLevel, "log-level", "info", "trace, debug, info, warn or error")
	fs.StringVar(&h.VaultAddress, "vault-address", "", "Vault's address written into injected agents (loopback only)")
	fs.StringVar(&h.VaultAuthType, "vault-auth-type", agent.DefaultVaultAuthType, "auth method of injected agents")
	fs.StringVar(&h.VaultAuthPath, "vault-auth-path", agent.DefaultVaultAuthPath, "auth path when a pod names none")
	fs.StringVar(&h.ImageVault, "vault-image", agent.DefaultVaultImage, "image of the injected agent containers")
	fs.StringVar(&h.UserID, "run-as-user", strconv.Itoa(agent.DefaultAgentRunAsUser), "uid of the injected agents")
	fs.StringVar(&h.GroupID, "run-as-group", strconv.Itoa(agent.DefaultAgentRunAsGroup), "gid of the injected agents")
	fs.BoolVar(&h.SetSecurityContext, "set-security-context", agent.DefaultAgentSetSecurityContext, "set the agents' securityContext")
	fs.StringVar(&h.DefaultTemplate, "default-template", agent.DefaultTemplateType, "map or json")
	fs.StringVar(&h.ResourceRequestCPU, "cpu-request", agent.DefaultResourceRequestCPU, "agents' CPU request")
	fs.StringVar(&h.ResourceRequestMem, "memory-request", agent.DefaultResourceRequestMem, "agents' memory request")
	fs.StringVar(&h.ResourceLimitCPU, "cpu-limit", agent.DefaultResourceLimitCPU, "agents' CPU limit")
	fs.StringVar(&h.ResourceLimitMem, "memory-limit", agent.DefaultResourceLimitMem, "agents' memory limit")
	fs.BoolVar(&h.ExitOnRetryFailure, "template-config-exit-on-retry-failure", agent.DefaultTemplateConfigExitOnRetryFailure,
		"agents' template_config.exit_on_retry_failure")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (every setting is a -flag)", fs.Arg(0))
	}
	return o, o.check()
}

// check refuses what the local platform may not do: a listener or a Vault off loopback, a missing TLS pair.
func (o *options) check() error {
	host, _, err := net.SplitHostPort(o.listen)
	if err != nil || !loopback(host) {
		return fmt.Errorf("-listen %q is not a loopback address with a port (give 127.0.0.1:PORT)", o.listen)
	}
	vault, err := url.Parse(o.handler.VaultAddress)
	if err != nil || (vault.Scheme != "http" && vault.Scheme != "https") || !loopback(vault.Hostname()) {
		return fmt.Errorf("-vault-address %q is not an http(s) URL on 127.0.0.0/8 (give the local Vault's address)", o.handler.VaultAddress)
	}
	for name, path := range map[string]string{"-tls-cert-file": o.certFile, "-tls-key-file": o.keyFile} {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("%s %q: %v (the local cluster's PKI makes it: make up)", name, path, err)
		}
	}
	if o.handler.DefaultTemplate != "map" && o.handler.DefaultTemplate != "json" {
		return fmt.Errorf("-default-template %q is neither map nor json", o.handler.DefaultTemplate)
	}
	if hclog.LevelFromString(o.logLevel) == hclog.NoLevel {
		return fmt.Errorf("-log-level %q is none of trace, debug, info, warn, error", o.logLevel)
	}
	return nil
}

func loopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback() && ip.To4() != nil
}

// mux routes as upstream's command does: /mutate (the admission handler) and /health/ready.
func mux(h *agentInject.Handler) *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("/mutate", h.Handle)
	m.HandleFunc("/health/ready", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return m
}

func serve(o *options) error {
	logger := hclog.New(&hclog.LoggerOptions{Name: "vault-injector", Level: hclog.LevelFromString(o.logLevel)})
	o.handler.Log = logger
	o.handler.RequireAnnotation = true
	pair, err := tls.LoadX509KeyPair(o.certFile, o.keyFile)
	if err != nil {
		return fmt.Errorf("TLS pair %s / %s: %v", o.certFile, o.keyFile, err)
	}
	listener, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %v (another program holds the port?)", o.listen, err)
	}
	server := &http.Server{
		Handler:           mux(&o.handler),
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          logger.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Error}),
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		sig := <-stop
		logger.Info("stopping", "signal", sig.String())
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = server.Shutdown(ctx)
	}()
	logger.Info("serving the Vault agent injector", "listen", o.listen, "vault", o.handler.VaultAddress)
	if err := server.ServeTLS(listener, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func main() {
	o, err := parse(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err == nil {
		err = serve(o)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "vault-injector: %v\n", err)
		os.Exit(2)
	}
}
