package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

const providerName = "random"

// providerVersion is the pulumi_random Python SDK version this plugin serves
// (its pulumi-plugin.json); the engine asks for a plugin of exactly that
// version. The Makefile sets it from toolchain/versions.txt with
// -ldflags "-X main.providerVersion=...".
var providerVersion = "4.21.4"

const (
	passwordToken = "random:index/randomPassword:RandomPassword"
	stringToken   = "random:index/randomString:RandomString"

	// passwordID is the ID every RandomPassword gets, as upstream does; a
	// RandomString's ID is its (non-secret) result, also as upstream.
	passwordID = "none"
)

// kind describes one resource type this plugin serves.
type kind struct {
	token  string
	secret bool // result (and bcryptHash) are secrets
	bcrypt bool // has a bcryptHash output
}

var kinds = map[string]kind{
	passwordToken: {token: passwordToken, secret: true, bcrypt: true},
	stringToken:   {token: stringToken},
}

type randomProvider struct {
	pulumirpc.UnimplementedResourceProviderServer
}

func newProvider() *randomProvider { return &randomProvider{} }

func kindOf(typ, urn string) (kind, error) {
	if typ == "" && urn != "" {
		typ = string(resource.URN(urn).Type())
	}
	k, ok := kinds[typ]
	if !ok {
		return kind{}, status.Errorf(codes.InvalidArgument, "random: unknown resource type %q (this plugin serves %s and %s)",
			typ, passwordToken, stringToken)
	}
	return k, nil
}

var (
	unmarshalOpts = func(label string) plugin.MarshalOptions {
		return plugin.MarshalOptions{Label: label, KeepUnknowns: true, KeepSecrets: true, SkipNulls: true}
	}
	marshalOpts = func(label string) plugin.MarshalOptions {
		return plugin.MarshalOptions{Label: label, KeepUnknowns: true, KeepSecrets: true}
	}
)

func unmarshal(s *structpb.Struct, label string) (resource.PropertyMap, error) {
	if s == nil {
		return resource.PropertyMap{}, nil
	}
	m, err := plugin.UnmarshalProperties(s, unmarshalOpts(label))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	return m, nil
}

// request is what every resource request names: the resource's type and URN.
type request interface {
	GetType() string
	GetUrn() string
}

// requested is what a resource method reads first: the resource's kind, then the
// property map s (label names it in errors).
func requested(req request, s *structpb.Struct, label string) (kind, resource.PropertyMap, error) {
	k, err := kindOf(req.GetType(), req.GetUrn())
	if err != nil {
		return kind{}, nil, err
	}
	m, err := unmarshal(s, label)
	return k, m, err
}

// oldsAndNews is what Diff and Update read first: the kind, the old state and
// the new inputs (labelled <op>.olds and <op>.news in errors).
func oldsAndNews(req interface {
	request
	GetOlds() *structpb.Struct
	GetNews() *structpb.Struct
}, op string,
) (kind, resource.PropertyMap, resource.PropertyMap, error) {
	k, olds, err := requested(req, req.GetOlds(), op+".olds")
	if err != nil {
		return kind{}, nil, nil, err
	}
	news, err := unmarshal(req.GetNews(), op+".news")
	return k, olds, news, err
}

func marshal(m resource.PropertyMap, label string) (*structpb.Struct, error) {
	s, err := plugin.MarshalProperties(m, marshalOpts(label))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	return s, nil
}

// secretOutputs wraps the outputs of k that must never reach state in plain
// text.
func secretOutputs(k kind, m resource.PropertyMap) resource.PropertyMap {
	if !k.secret {
		return m
	}
	for _, key := range []resource.PropertyKey{pResult, pBcryptHash} {
		if v, ok := m[key]; ok && !v.IsNull() && !v.IsSecret() && !v.IsComputed() {
			m[key] = resource.MakeSecret(v)
		}
	}
	return m
}

func failuresError(fs []failure) error {
	msgs := make([]string, len(fs))
	for i, f := range fs {
		msgs[i] = f.reason
	}
	return status.Error(codes.InvalidArgument, strings.Join(msgs, "; "))
}

// --- plugin metadata -------------------------------------------------------

func (p *randomProvider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: providerVersion}, nil
}

func (p *randomProvider) GetSchema(_ context.Context, req *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	if req.GetSubpackageName() != "" {
		return nil, status.Errorf(codes.NotFound, "random: no subpackage %q", req.GetSubpackageName())
	}
	return &pulumirpc.GetSchemaResponse{Schema: schemaJSON}, nil
}

func (p *randomProvider) Handshake(context.Context, *pulumirpc.ProviderHandshakeRequest) (*pulumirpc.ProviderHandshakeResponse, error) {
	return &pulumirpc.ProviderHandshakeResponse{AcceptSecrets: true}, nil
}

func (p *randomProvider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil // nothing long-running to cancel
}

// --- provider configuration (there is none) --------------------------------

func (p *randomProvider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *randomProvider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (p *randomProvider) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true}, nil
}

// --- resources -------------------------------------------------------------

// Check applies defaults and validates the inputs.
func (p *randomProvider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	_, news, err := requested(req, req.GetNews(), "check.news")
	if err != nil {
		return nil, err
	}
	in, fs := normalize(news)
	if len(fs) == 0 {
		if params, known := paramsOf(in); known {
			fs = params.validate()
		}
	}
	inputs, err := marshal(in, "check.inputs")
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.CheckResponse{Inputs: inputs}
	for _, f := range fs {
		resp.Failures = append(resp.Failures, &pulumirpc.CheckFailure{Property: f.property, Reason: f.reason})
	}
	return resp, nil
}

// Diff compares the inputs in the old state with the new checked inputs.
// Every input change replaces the resource: the result is never regenerated
// in place.
func (p *randomProvider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	_, olds, news, err := oldsAndNews(req, "diff")
	if err != nil {
		return nil, err
	}
	// Normalize both sides so that state written without a default (or by an
	// SDK that only knew `number`) compares equal to the defaulted inputs.
	oldIn, _ := normalize(olds)
	newIn, _ := normalize(news)
	ignored := map[string]bool{}
	for _, k := range req.GetIgnoreChanges() {
		ignored[k] = true
	}

	resp := &pulumirpc.DiffResponse{
		Changes:         pulumirpc.DiffResponse_DIFF_NONE,
		HasDetailedDiff: true,
		DetailedDiff:    map[string]*pulumirpc.PropertyDiff{},
	}
	for _, k := range inputKeys {
		if ignored[string(k)] {
			continue
		}
		o, n := deepPlain(oldIn[k]), deepPlain(newIn[k])
		var diffKind pulumirpc.PropertyDiff_Kind
		switch {
		case n.ContainsUnknowns():
			diffKind = pulumirpc.PropertyDiff_UPDATE_REPLACE
		case empty(o) && empty(n):
			continue
		case empty(o):
			diffKind = pulumirpc.PropertyDiff_ADD_REPLACE
		case empty(n):
			diffKind = pulumirpc.PropertyDiff_DELETE_REPLACE
		case o.DeepEquals(n):
			continue
		default:
			diffKind = pulumirpc.PropertyDiff_UPDATE_REPLACE
		}
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
		resp.Replaces = append(resp.Replaces, string(k))
		resp.Diffs = append(resp.Diffs, string(k))
		resp.DetailedDiff[string(k)] = &pulumirpc.PropertyDiff{Kind: diffKind, InputDiff: true}
	}
	return resp, nil
}

// Create generates the result (and for passwords its bcrypt hash).
func (p *randomProvider) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	k, props, err := requested(req, req.GetProperties(), "create.properties")
	if err != nil {
		return nil, err
	}
	in, fs := normalize(props)
	if len(fs) > 0 {
		return nil, failuresError(fs)
	}
	outs := in.Copy()
	params, known := paramsOf(in)
	if req.GetPreview() {
		// Nothing is generated during a preview.
		outs[pResult] = resource.MakeComputed(resource.NewProperty(""))
		if k.bcrypt {
			outs[pBcryptHash] = resource.MakeComputed(resource.NewProperty(""))
		}
		out, err := marshal(outs, "create.outputs")
		if err != nil {
			return nil, err
		}
		return &pulumirpc.CreateResponse{Properties: out}, nil
	}
	if !known {
		return nil, status.Error(codes.InvalidArgument, "random: inputs are still unknown outside of a preview")
	}
	if fs := params.validate(); len(fs) > 0 {
		return nil, failuresError(fs)
	}
	result, err := generate(params)
	if err != nil {
		return nil, err
	}
	outs[pResult] = resource.NewProperty(result)
	id := passwordID
	if k.bcrypt {
		h, err := bcryptHash(result)
		if err != nil {
			return nil, err
		}
		outs[pBcryptHash] = resource.NewProperty(h)
	}
	if !k.secret {
		id = result
	}
	out, err := marshal(secretOutputs(k, outs), "create.outputs")
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: out}, nil
}

// Read returns the stored state unchanged: there is nothing outside Pulumi's
// state to read back. Import (a Read with no state) is not supported.
func (p *randomProvider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	k, state, err := requested(req, req.GetProperties(), "read.properties")
	if err != nil {
		return nil, err
	}
	if len(state) == 0 {
		return nil, status.Errorf(codes.Unimplemented,
			"random: importing %s is not supported by this plugin (see toolchain/random/README.md)", k.token)
	}
	inputs := req.GetInputs()
	if len(inputs.GetFields()) == 0 {
		in, _ := normalize(state)
		if inputs, err = marshal(in, "read.inputs"); err != nil {
			return nil, err
		}
	}
	out, err := marshal(secretOutputs(k, state), "read.outputs")
	if err != nil {
		return nil, err
	}
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: out, Inputs: inputs}, nil
}

// Update is never asked for (Diff replaces on every input change); should an
// engine ask anyway, the new inputs are accepted and the result is kept.
func (p *randomProvider) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	k, olds, news, err := oldsAndNews(req, "update")
	if err != nil {
		return nil, err
	}
	outs, fs := normalize(news)
	if len(fs) > 0 {
		return nil, failuresError(fs)
	}
	for _, key := range []resource.PropertyKey{pResult, pBcryptHash} {
		if v, ok := olds[key]; ok {
			outs[key] = v
		}
	}
	out, err := marshal(secretOutputs(k, outs), "update.outputs")
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: out}, nil
}

// Delete has nothing to remove outside Pulumi's state.
func (p *randomProvider) Delete(context.Context, *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}
