// Command noop-analyzer is a bench instrument: a policy analyzer plugin that
// answers every call of the analyzer protocol as fast as it can and judges
// nothing. bench/noop.py builds it and hands its path to `pulumi preview
// --policy-pack`, so a preview with it measures what the engine itself spends
// on a policy pack (two calls per registration, the stack call, start-up),
// with no Python and no rules.
//
// GetAnalyzerInfo answers the AnalyzerInfo in analyzer-info.json beside the
// path it was started as (protobuf JSON, written by bench/noop.py from our
// pack's own answer), so the engine sees the same policies as with our pack.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/emptypb"
)

// InfoFile is the AnalyzerInfo the analyzer serves, read from beside it.
const InfoFile = "analyzer-info.json"

type analyzer struct {
	pulumirpc.UnimplementedAnalyzerServer
	info *pulumirpc.AnalyzerInfo
}

func (a *analyzer) Analyze(context.Context, *pulumirpc.AnalyzeRequest) (*pulumirpc.AnalyzeResponse, error) {
	return &pulumirpc.AnalyzeResponse{}, nil
}

func (a *analyzer) AnalyzeStack(context.Context, *pulumirpc.AnalyzeStackRequest) (*pulumirpc.AnalyzeResponse, error) {
	return &pulumirpc.AnalyzeResponse{}, nil
}

func (a *analyzer) Remediate(context.Context, *pulumirpc.AnalyzeRequest) (*pulumirpc.RemediateResponse, error) {
	return &pulumirpc.RemediateResponse{}, nil
}

func (a *analyzer) GetAnalyzerInfo(context.Context, *emptypb.Empty) (*pulumirpc.AnalyzerInfo, error) {
	return a.info, nil
}

func (a *analyzer) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: a.info.GetVersion()}, nil
}

func (a *analyzer) Configure(context.Context, *pulumirpc.ConfigureAnalyzerRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (a *analyzer) Handshake(context.Context, *pulumirpc.AnalyzerHandshakeRequest) (*pulumirpc.AnalyzerHandshakeResponse, error) {
	return &pulumirpc.AnalyzerHandshakeResponse{}, nil
}

func (a *analyzer) ConfigureStack(
	context.Context, *pulumirpc.AnalyzerStackConfigureRequest,
) (*pulumirpc.AnalyzerStackConfigureResponse, error) {
	return &pulumirpc.AnalyzerStackConfigureResponse{}, nil
}

func (a *analyzer) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func loadInfo(path string) (*pulumirpc.AnalyzerInfo, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("noop-analyzer: cannot read its AnalyzerInfo %s (bench/noop.py writes it beside the binary): %w", path, err)
	}
	info := &pulumirpc.AnalyzerInfo{}
	if err := protojson.Unmarshal(data, info); err != nil {
		return nil, fmt.Errorf("noop-analyzer: %s is not an AnalyzerInfo in protobuf JSON: %w", path, err)
	}
	return info, nil
}

func main() {
	info, err := loadInfo(filepath.Join(filepath.Dir(os.Args[0]), InfoFile))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(s *grpc.Server) error {
			pulumirpc.RegisterAnalyzerServer(s, &analyzer{info: info})
			return nil
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The plugin protocol: the port on the first line of stdout, then serve until the engine closes us.
	fmt.Println(handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
