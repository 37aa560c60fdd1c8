package main

import (
	"fmt"
	"math"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Input property names, as the pulumi_random Python SDK sends them.
const (
	pLength          = "length"
	pLower           = "lower"
	pUpper           = "upper"
	pNumeric         = "numeric"
	pNumber          = "number" // deprecated alias of numeric
	pSpecial         = "special"
	pOverrideSpecial = "overrideSpecial"
	pMinLower        = "minLower"
	pMinUpper        = "minUpper"
	pMinNumeric      = "minNumeric"
	pMinSpecial      = "minSpecial"
	pKeepers         = "keepers"

	// Outputs.
	pResult     = "result"
	pBcryptHash = "bcryptHash"
)

// inputKeys lists every input property, in the order diffs are reported.
var inputKeys = []resource.PropertyKey{
	pKeepers, pLength, pLower, pMinLower, pMinNumeric, pMinSpecial, pMinUpper,
	pNumber, pNumeric, pOverrideSpecial, pSpecial, pUpper,
}

var (
	boolKeys = []resource.PropertyKey{pLower, pUpper, pSpecial} // numeric/number handled together
	minKeys  = []resource.PropertyKey{pMinLower, pMinUpper, pMinNumeric, pMinSpecial}
)

// plain strips secret wrappers from v (not from nested values).
func plain(v resource.PropertyValue) resource.PropertyValue {
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	return v
}

// deepPlain strips secret wrappers from v and everything inside it.
func deepPlain(v resource.PropertyValue) resource.PropertyValue {
	v = plain(v)
	switch {
	case v.IsObject():
		m := resource.PropertyMap{}
		for k, e := range v.ObjectValue() {
			m[k] = deepPlain(e)
		}
		return resource.NewProperty(m)
	case v.IsArray():
		a := make([]resource.PropertyValue, len(v.ArrayValue()))
		for i, e := range v.ArrayValue() {
			a[i] = deepPlain(e)
		}
		return resource.NewProperty(a)
	}
	return v
}

// present reports whether m holds a non-null value for k.
func present(m resource.PropertyMap, k resource.PropertyKey) bool {
	v, ok := m[k]
	return ok && !plain(v).IsNull()
}

// normalize keeps only the input properties of m and applies the defaults
// (lower/upper/numeric/special true, min* 0, number mirrors numeric). It
// reports type errors and a missing length; unknown values are kept as they
// are. Secret wrappers are preserved.
func normalize(m resource.PropertyMap) (resource.PropertyMap, []failure) {
	out := resource.PropertyMap{}
	for _, k := range inputKeys {
		if present(m, k) {
			out[k] = m[k]
		}
	}
	var fs []failure

	if !present(out, pLength) {
		fs = append(fs, failure{pLength, "missing required property 'length'"})
	}
	for _, k := range boolKeys {
		if !present(out, k) {
			out[k] = resource.NewProperty(true)
		}
	}
	for _, k := range minKeys {
		if !present(out, k) {
			out[k] = resource.NewProperty(0.0)
		}
	}
	// numeric and its deprecated alias number always agree in the outputs.
	switch num, nbr := present(out, pNumeric), present(out, pNumber); {
	case num && nbr:
		a, b := plain(out[pNumeric]), plain(out[pNumber])
		if a.IsBool() && b.IsBool() && a.BoolValue() != b.BoolValue() {
			fs = append(fs, failure{pNumber, "number (deprecated) and numeric must agree; set numeric only"})
		}
	case num:
		out[pNumber] = out[pNumeric]
	case nbr:
		out[pNumeric] = out[pNumber]
	default:
		out[pNumeric] = resource.NewProperty(true)
		out[pNumber] = resource.NewProperty(true)
	}

	// Types of known values.
	for _, k := range []resource.PropertyKey{pLower, pUpper, pNumeric, pNumber, pSpecial} {
		if v := plain(out[k]); !v.IsComputed() && !v.IsBool() {
			fs = append(fs, failure{string(k), fmt.Sprintf("%s must be a boolean", k)})
		}
	}
	for _, k := range append([]resource.PropertyKey{pLength}, minKeys...) {
		if !present(out, k) {
			continue
		}
		if v := plain(out[k]); !v.IsComputed() && (!v.IsNumber() || v.NumberValue() != math.Trunc(v.NumberValue())) {
			fs = append(fs, failure{string(k), fmt.Sprintf("%s must be an integer", k)})
		}
	}
	if present(out, pOverrideSpecial) {
		if v := plain(out[pOverrideSpecial]); !v.IsComputed() && !v.IsString() {
			fs = append(fs, failure{pOverrideSpecial, "overrideSpecial must be a string"})
		}
	}
	if present(out, pKeepers) {
		if v := plain(out[pKeepers]); !v.IsComputed() && !v.IsObject() {
			fs = append(fs, failure{pKeepers, "keepers must be a map"})
		}
	}
	return out, fs
}

// paramsOf reads generation parameters from normalized, type-checked inputs.
// ok is false while any of them is still unknown.
func paramsOf(in resource.PropertyMap) (p params, ok bool) {
	for _, k := range inputKeys {
		if k == pKeepers {
			continue // keepers only trigger replacement
		}
		if v, has := in[k]; has && plain(v).ContainsUnknowns() {
			return params{}, false
		}
	}
	num := func(k resource.PropertyKey) int { return int(plain(in[k]).NumberValue()) }
	boolean := func(k resource.PropertyKey) bool { return plain(in[k]).BoolValue() }
	p = params{
		Length:     num(pLength),
		Lower:      boolean(pLower),
		Upper:      boolean(pUpper),
		Numeric:    boolean(pNumeric),
		Special:    boolean(pSpecial),
		MinLower:   num(pMinLower),
		MinUpper:   num(pMinUpper),
		MinNumeric: num(pMinNumeric),
		MinSpecial: num(pMinSpecial),
	}
	if present(in, pOverrideSpecial) {
		p.OverrideSpecial = plain(in[pOverrideSpecial]).StringValue()
	}
	return p, true
}

// empty reports whether v carries nothing: null, or (for keepers) an empty map.
func empty(v resource.PropertyValue) bool {
	v = plain(v)
	return v.IsNull() || (v.IsObject() && len(v.ObjectValue()) == 0)
}
