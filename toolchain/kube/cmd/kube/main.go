// Command kube is the local cluster's Kubernetes programs in one binary: kube-apiserver,
// kube-controller-manager, kube-scheduler and the kubelet from k8s.io/kubernetes, each run
// exactly as its own cmd/<name> main runs it. Which one runs is the name it is started as:
// make toolchain links each name to this binary (build/cluster/kube-apiserver -> kube), so
// the local cluster starts them by their usual names and paths.
//
// Why: the four share almost all of their packages, so compiling them once was already one
// go build; what four binaries still cost is four links of a Kubernetes-sized program, the
// largest single-threaded part of the step (docs/PERFORMANCE.md, "The cold first run").
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/component-base/cli"

	// What each upstream main imports for its side effects (the same in all four).
	_ "k8s.io/component-base/logs/json/register"          // the JSON log format
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go's metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // the version metric
	_ "time/tzdata"                                       // CronJob time zones (kube-apiserver, kube-controller-manager)

	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"
)

// programs: each name and the command its upstream main runs.
var programs = map[string]func() *cobra.Command{
	"kube-apiserver":          apiserver.NewAPIServerCommand,
	"kube-controller-manager": controllermanager.NewControllerManagerCommand,
	"kube-scheduler":          func() *cobra.Command { return scheduler.NewSchedulerCommand() },
	"kubelet":                 func() *cobra.Command { return kubelet.NewKubeletCommand(context.Background()) },
}

func main() {
	name := filepath.Base(os.Args[0])
	program, found := programs[name]
	if !found {
		names := make([]string, 0, len(programs))
		for n := range programs {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "kube: started as %q; run it through a link named one of %s (make toolchain makes them in build/cluster/)\n",
			name, strings.Join(names, ", "))
		os.Exit(2)
	}
	os.Exit(cli.Run(program()))
}
