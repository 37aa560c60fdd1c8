package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/crypto/bcrypt"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

const (
	pwURN  = "urn:pulumi:dev::proj::random:index/randomPassword:RandomPassword::pw"
	strURN = "urn:pulumi:dev::proj::random:index/randomString:RandomString::s"
)

var ctx = context.Background()

// wire marshals m the way the engine sends properties (secrets and unknowns kept).
func wire(t *testing.T, m resource.PropertyMap) *structpb.Struct {
	t.Helper()
	s, err := plugin.MarshalProperties(m, plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func unwire(t *testing.T, s *structpb.Struct) resource.PropertyMap {
	t.Helper()
	m, err := plugin.UnmarshalProperties(s, plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func props(kv map[string]any) resource.PropertyMap {
	return resource.NewPropertyMapFromMap(kv)
}

func check(t *testing.T, urn string, news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	t.Helper()
	resp, err := newProvider().Check(ctx, &pulumirpc.CheckRequest{Urn: urn, News: wire(t, news)})
	if err != nil {
		t.Fatal(err)
	}
	return unwire(t, resp.GetInputs()), resp.GetFailures()
}

// create runs Check then Create, as the engine does, and returns id and outputs.
func create(t *testing.T, urn string, news resource.PropertyMap) (string, resource.PropertyMap) {
	t.Helper()
	in, fs := check(t, urn, news)
	if len(fs) > 0 {
		t.Fatalf("check failures: %v", fs)
	}
	resp, err := newProvider().Create(ctx, &pulumirpc.CreateRequest{Urn: urn, Properties: wire(t, in)})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetId(), unwire(t, resp.GetProperties())
}

func result(t *testing.T, outs resource.PropertyMap) string {
	t.Helper()
	v := plain(outs[pResult])
	if !v.IsString() {
		t.Fatalf("result is not a string: %v", outs[pResult])
	}
	return v.StringValue()
}

func count(s, chars string) int {
	n := 0
	for _, r := range s {
		if strings.ContainsRune(chars, r) {
			n++
		}
	}
	return n
}

func TestCheckDefaults(t *testing.T) {
	in, fs := check(t, pwURN, props(map[string]any{"length": 16}))
	if len(fs) > 0 {
		t.Fatalf("unexpected failures: %v", fs)
	}
	want := props(map[string]any{
		"length": 16, "lower": true, "upper": true, "numeric": true, "number": true, "special": true,
		"minLower": 0, "minUpper": 0, "minNumeric": 0, "minSpecial": 0,
	})
	if !in.DeepEquals(want) {
		t.Fatalf("defaults:\n got %v\nwant %v", in, want)
	}
}

func TestCheckNumberAlias(t *testing.T) {
	in, fs := check(t, pwURN, props(map[string]any{"length": 8, "number": false}))
	if len(fs) > 0 || in[pNumeric].BoolValue() || in[pNumber].BoolValue() {
		t.Fatalf("number=false should set numeric=false: %v %v", in, fs)
	}
	_, fs = check(t, pwURN, props(map[string]any{"length": 8, "number": false, "numeric": true}))
	if len(fs) == 0 {
		t.Fatal("conflicting number/numeric should fail")
	}
}

func TestCheckValidation(t *testing.T) {
	cases := map[string]map[string]any{
		"missing length":         {"lower": true},
		"zero length":            {"length": 0},
		"negative length":        {"length": -3},
		"fractional length":      {"length": 3.5},
		"length below min sum":   {"length": 4, "minUpper": 2, "minNumeric": 2, "minSpecial": 1},
		"no class":               {"length": 8, "lower": false, "upper": false, "numeric": false, "special": false},
		"min of disabled class":  {"length": 8, "special": false, "minSpecial": 1},
		"negative min":           {"length": 8, "minLower": -1},
		"wrong type for lower":   {"length": 8, "lower": "yes"},
		"wrong type for keepers": {"length": 8, "keepers": "x"},
	}
	for name, news := range cases {
		t.Run(name, func(t *testing.T) {
			if _, fs := check(t, pwURN, props(news)); len(fs) == 0 {
				t.Fatalf("expected a check failure for %v", news)
			}
		})
	}
	// The boundary: length equal to the sum of mins is fine.
	if _, fs := check(t, pwURN, props(map[string]any{"length": 4, "minUpper": 2, "minNumeric": 2})); len(fs) > 0 {
		t.Fatalf("length == sum of mins should pass: %v", fs)
	}
}

func TestCheckUnknownsSkipValidation(t *testing.T) {
	news := props(map[string]any{"length": 8})
	news[pMinSpecial] = resource.MakeComputed(resource.NewProperty(""))
	in, fs := check(t, pwURN, news)
	if len(fs) > 0 || !in[pMinSpecial].IsComputed() {
		t.Fatalf("unknown minSpecial should pass through: %v %v", in, fs)
	}
}

// The loops below use RandomString (same generator, no bcrypt) to stay fast.

func TestMinCountsHonoured(t *testing.T) {
	for range 50 {
		_, outs := create(t, strURN, props(map[string]any{
			"length": 12, "minLower": 3, "minUpper": 3, "minNumeric": 3, "minSpecial": 3,
		}))
		r := result(t, outs)
		if len(r) != 12 {
			t.Fatalf("length %d: %q", len(r), r)
		}
		for _, c := range []string{lowerChars, upperChars, numericChars, defaultSpecialChars} {
			if count(r, c) < 3 {
				t.Fatalf("fewer than 3 of %q in %q", c, r)
			}
		}
	}
}

func TestClassesHonoured(t *testing.T) {
	for range 50 {
		_, outs := create(t, strURN, props(map[string]any{
			"length": 64, "upper": false, "numeric": false, "special": false,
		}))
		r := result(t, outs)
		if count(r, lowerChars) != 64 {
			t.Fatalf("only lowercase expected: %q", r)
		}
		_, outs = create(t, strURN, props(map[string]any{"length": 64, "lower": false, "special": false}))
		r = result(t, outs)
		if count(r, upperChars+numericChars) != 64 {
			t.Fatalf("only upper+digits expected: %q", r)
		}
	}
	// Every enabled class shows up over enough draws (probability of a miss
	// is negligible at this length).
	_, outs := create(t, pwURN, props(map[string]any{"length": 512}))
	r := result(t, outs)
	for _, c := range []string{lowerChars, upperChars, numericChars, defaultSpecialChars} {
		if count(r, c) == 0 {
			t.Fatalf("no character of %q in a 512-long default result", c)
		}
	}
	if count(r, lowerChars+upperChars+numericChars+defaultSpecialChars) != 512 {
		t.Fatalf("unexpected characters in %q", r)
	}
}

func TestOverrideSpecialHonoured(t *testing.T) {
	_, outs := create(t, pwURN, props(map[string]any{
		"length": 40, "lower": false, "upper": false, "numeric": false, "overrideSpecial": "_-",
	}))
	if r := result(t, outs); count(r, "_-") != 40 {
		t.Fatalf("only _ and - expected: %q", r)
	}
	_, outs = create(t, pwURN, props(map[string]any{
		"length": 200, "minSpecial": 5, "overrideSpecial": "#%",
	}))
	r := result(t, outs)
	if count(r, "#%") < 5 || count(r, strings.NewReplacer("#", "", "%", "").Replace(defaultSpecialChars)) != 0 {
		t.Fatalf("specials outside overrideSpecial, or fewer than 5: %q", r)
	}
	// Non-ASCII specials stay whole characters.
	_, outs = create(t, pwURN, props(map[string]any{
		"length": 10, "lower": false, "upper": false, "numeric": false, "overrideSpecial": "§€",
	}))
	if r := result(t, outs); !utf8.ValidString(r) || utf8.RuneCountInString(r) != 10 {
		t.Fatalf("non-ASCII overrideSpecial broke the result: %q", r)
	}
}

func TestCreatePasswordSecrets(t *testing.T) {
	id, outs := create(t, pwURN, props(map[string]any{"length": 24, "keepers": map[string]any{"rotation": "1"}}))
	if id != passwordID {
		t.Fatalf("id %q", id)
	}
	for _, k := range []resource.PropertyKey{pResult, pBcryptHash} {
		if !outs[k].IsSecret() {
			t.Fatalf("%s is not a secret: %v", k, outs[k])
		}
	}
	r := result(t, outs)
	if err := bcrypt.CompareHashAndPassword([]byte(plain(outs[pBcryptHash]).StringValue()), []byte(r)); err != nil {
		t.Fatalf("bcryptHash does not match result: %v", err)
	}
	// On the wire the plaintext only appears inside a secret envelope.
	resp, err := newProvider().Create(ctx, &pulumirpc.CreateRequest{Urn: pwURN, Properties: wire(t, outs)})
	if err != nil {
		t.Fatal(err)
	}
	raw := resp.GetProperties().GetFields()[pResult].GetStructValue().GetFields()
	if raw[resource.SigKey].GetStringValue() != resource.SecretSig {
		t.Fatalf("result on the wire is not a secret: %v", raw)
	}
	if outs[pKeepers].ObjectValue()["rotation"].StringValue() != "1" {
		t.Fatalf("keepers not kept in outputs: %v", outs)
	}
}

func TestCreateLongPasswordBcrypt(t *testing.T) {
	_, outs := create(t, pwURN, props(map[string]any{"length": 100}))
	h := plain(outs[pBcryptHash]).StringValue()
	if err := bcrypt.CompareHashAndPassword([]byte(h), []byte(result(t, outs)[:72])); err != nil {
		t.Fatalf("bcrypt of the first 72 bytes expected: %v", err)
	}
}

func TestCreateStringNotSecret(t *testing.T) {
	id, outs := create(t, strURN, props(map[string]any{"length": 10}))
	if outs[pResult].IsSecret() || !outs[pResult].IsString() {
		t.Fatalf("RandomString result should be a plain string: %v", outs[pResult])
	}
	if id != outs[pResult].StringValue() {
		t.Fatalf("RandomString id should be its result: %q", id)
	}
	if _, has := outs[pBcryptHash]; has {
		t.Fatal("RandomString has no bcryptHash")
	}
}

func TestCreatePreviewIsUnknown(t *testing.T) {
	in, _ := check(t, pwURN, props(map[string]any{"length": 8}))
	resp, err := newProvider().Create(ctx, &pulumirpc.CreateRequest{Urn: pwURN, Properties: wire(t, in), Preview: true})
	if err != nil {
		t.Fatal(err)
	}
	outs := unwire(t, resp.GetProperties())
	if !outs[pResult].IsComputed() || !outs[pBcryptHash].IsComputed() {
		t.Fatalf("preview should leave result unknown: %v", outs)
	}
}

func diff(t *testing.T, olds, news resource.PropertyMap, ignore ...string) *pulumirpc.DiffResponse {
	t.Helper()
	resp, err := newProvider().Diff(ctx, &pulumirpc.DiffRequest{
		Urn: pwURN, Id: passwordID, Olds: wire(t, olds), News: wire(t, news), IgnoreChanges: ignore,
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestDiff(t *testing.T) {
	args := map[string]any{"length": 20, "special": false, "keepers": map[string]any{"rotation": "1"}}
	_, state := create(t, pwURN, props(args))
	same, _ := check(t, pwURN, props(args))

	if d := diff(t, state, same); d.GetChanges() != pulumirpc.DiffResponse_DIFF_NONE || len(d.GetReplaces()) != 0 {
		t.Fatalf("unchanged inputs should not diff: %v", d)
	}

	rotated, _ := check(t, pwURN, props(map[string]any{
		"length": 20, "special": false, "keepers": map[string]any{"rotation": "2"},
	}))
	d := diff(t, state, rotated)
	if d.GetChanges() != pulumirpc.DiffResponse_DIFF_SOME || strings.Join(d.GetReplaces(), ",") != pKeepers ||
		d.GetDeleteBeforeReplace() {
		t.Fatalf("keepers change should replace (create before delete): %v", d)
	}
	if d.GetDetailedDiff()[pKeepers].GetKind() != pulumirpc.PropertyDiff_UPDATE_REPLACE {
		t.Fatalf("detailed diff: %v", d.GetDetailedDiff())
	}

	// Any input change replaces.
	longer, _ := check(t, pwURN, props(map[string]any{
		"length": 21, "special": false, "keepers": map[string]any{"rotation": "1"},
	}))
	if d := diff(t, state, longer); strings.Join(d.GetReplaces(), ",") != pLength {
		t.Fatalf("length change should replace: %v", d)
	}
	// Dropping keepers replaces; ignoreChanges is honoured.
	noKeepers, _ := check(t, pwURN, props(map[string]any{"length": 20, "special": false}))
	if d := diff(t, state, noKeepers); d.GetDetailedDiff()[pKeepers].GetKind() != pulumirpc.PropertyDiff_DELETE_REPLACE {
		t.Fatalf("removing keepers should replace: %v", d)
	}
	if d := diff(t, state, rotated, pKeepers); d.GetChanges() != pulumirpc.DiffResponse_DIFF_NONE {
		t.Fatalf("ignored keepers should not diff: %v", d)
	}
	// An unknown new keeper replaces.
	unknown := same.Copy()
	unknown[pKeepers] = resource.MakeComputed(resource.NewProperty(""))
	if d := diff(t, state, unknown); strings.Join(d.GetReplaces(), ",") != pKeepers {
		t.Fatalf("unknown keepers should replace: %v", d)
	}
	// A secret keeper with the same value is no change.
	secretKeeper := same.Copy()
	secretKeeper[pKeepers] = resource.MakeSecret(same[pKeepers])
	if d := diff(t, state, secretKeeper); d.GetChanges() != pulumirpc.DiffResponse_DIFF_NONE {
		t.Fatalf("secretness alone should not diff: %v", d)
	}
	// State that only knows `number` (older SDKs) does not diff against defaults.
	old := state.Copy()
	delete(old, pNumeric)
	if d := diff(t, old, same); d.GetChanges() != pulumirpc.DiffResponse_DIFF_NONE {
		t.Fatalf("missing numeric in old state should default: %v", d)
	}
}

func TestReadReturnsStateWithSecrets(t *testing.T) {
	_, state := create(t, pwURN, props(map[string]any{"length": 12}))
	// State as an engine that lost the secret wrapper would send it.
	bare := state.Copy()
	bare[pResult] = plain(state[pResult])
	resp, err := newProvider().Read(ctx, &pulumirpc.ReadRequest{Urn: pwURN, Id: passwordID, Properties: wire(t, bare)})
	if err != nil {
		t.Fatal(err)
	}
	got := unwire(t, resp.GetProperties())
	if resp.GetId() != passwordID || !got[pResult].IsSecret() || result(t, got) != result(t, state) {
		t.Fatalf("read should return the stored state with secrets: %v", got)
	}
	if in := unwire(t, resp.GetInputs()); in[pLength].NumberValue() != 12 || in.HasValue(pResult) {
		t.Fatalf("read inputs: %v", in)
	}
	if _, err := newProvider().Read(ctx, &pulumirpc.ReadRequest{Urn: pwURN, Id: "hunter2"}); err == nil {
		t.Fatal("import should be refused")
	}
}

func TestUpdateKeepsResult(t *testing.T) {
	_, state := create(t, pwURN, props(map[string]any{"length": 12}))
	news, _ := check(t, pwURN, props(map[string]any{"length": 12, "keepers": map[string]any{"a": "b"}}))
	resp, err := newProvider().Update(ctx, &pulumirpc.UpdateRequest{Urn: pwURN, Olds: wire(t, state), News: wire(t, news)})
	if err != nil {
		t.Fatal(err)
	}
	got := unwire(t, resp.GetProperties())
	if result(t, got) != result(t, state) || !got[pResult].IsSecret() {
		t.Fatalf("update should keep the secret result: %v", got)
	}
}

func TestUnknownType(t *testing.T) {
	_, err := newProvider().Check(ctx, &pulumirpc.CheckRequest{
		Urn: "urn:pulumi:dev::proj::random:index/randomUuid:RandomUuid::u", News: wire(t, props(map[string]any{})),
	})
	if err == nil {
		t.Fatal("unknown resource type should be an error")
	}
}

// Every resource method reads the resource's kind before anything else, and refuses one this plugin does not serve.
func TestEveryResourceMethodRefusesAnUnknownType(t *testing.T) {
	const urn = "urn:pulumi:dev::proj::random:index/randomUuid:RandomUuid::u"
	in := wire(t, props(map[string]any{}))
	p := newProvider()
	calls := map[string]func() error{
		"check":  func() error { _, err := p.Check(ctx, &pulumirpc.CheckRequest{Urn: urn, News: in}); return err },
		"diff":   func() error { _, err := p.Diff(ctx, &pulumirpc.DiffRequest{Urn: urn, Olds: in, News: in}); return err },
		"create": func() error { _, err := p.Create(ctx, &pulumirpc.CreateRequest{Urn: urn, Properties: in}); return err },
		"read":   func() error { _, err := p.Read(ctx, &pulumirpc.ReadRequest{Urn: urn, Properties: in}); return err },
		"update": func() error {
			_, err := p.Update(ctx, &pulumirpc.UpdateRequest{Urn: urn, Olds: in, News: in})
			return err
		},
	}
	for name, call := range calls {
		if err := call(); err == nil || !strings.Contains(err.Error(), "unknown resource type") {
			t.Errorf("%s of an unknown type: %v, want the unknown resource type error", name, err)
		}
	}
}

func TestPluginInfoAndSchema(t *testing.T) {
	info, err := newProvider().GetPluginInfo(ctx, &emptypb.Empty{})
	if err != nil || info.GetVersion() != "4.21.4" {
		t.Fatalf("plugin info: %v %v", info, err)
	}
	s, err := newProvider().GetSchema(ctx, &pulumirpc.GetSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Name      string
		Version   string
		Resources map[string]struct {
			Properties map[string]struct{ Secret bool }
		}
	}
	if err := json.Unmarshal([]byte(s.GetSchema()), &schema); err != nil {
		t.Fatal(err)
	}
	pw := schema.Resources[passwordToken]
	if schema.Name != "random" || schema.Version != "4.21.4" || !pw.Properties[pResult].Secret ||
		!pw.Properties[pBcryptHash].Secret || schema.Resources[stringToken].Properties[pResult].Secret {
		t.Fatalf("schema: %s", s.GetSchema())
	}
	cfg, err := newProvider().Configure(ctx, &pulumirpc.ConfigureRequest{})
	if err != nil || !cfg.GetAcceptSecrets() || !cfg.GetSupportsPreview() {
		t.Fatalf("configure: %v %v", cfg, err)
	}
}
