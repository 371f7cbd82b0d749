package provider

import (
	"context"
	"encoding/json"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/cloneserver/terraform-provider-clone/internal/pool"
)

// privateGetter and privateSetter are the private state of a request and of
// a response.
type (
	privateGetter interface {
		GetKey(context.Context, string) ([]byte, diag.Diagnostics)
	}
	privateSetter interface {
		SetKey(context.Context, string, []byte) diag.Diagnostics
	}
)

// privateMasterRegistrations records where the pool itself registered the
// master, so destroy deregisters it only there.
const privateMasterRegistrations = "master_registrations"

func getRegistrations(ctx context.Context, p privateGetter) ([]pool.Registration, diag.Diagnostics) {
	return getPrivate[pool.Registration](ctx, p, privateMasterRegistrations)
}

func setRegistrations(ctx context.Context, p privateSetter, regs []pool.Registration) diag.Diagnostics {
	return setPrivate(ctx, p, privateMasterRegistrations, regs)
}

// privateImagesInUse records the images of a clone_image's history the
// last apply kept beyond retain_previous because something used them.
const privateImagesInUse = "images_in_use"

func getImagesInUse(ctx context.Context, p privateGetter) ([]string, diag.Diagnostics) {
	return getPrivate[string](ctx, p, privateImagesInUse)
}

func setImagesInUse(ctx context.Context, p privateSetter, ids []string) diag.Diagnostics {
	return setPrivate(ctx, p, privateImagesInUse, ids)
}

// getPrivate reads the JSON list under key; none is nil.
func getPrivate[T any](ctx context.Context, p privateGetter, key string) ([]T, diag.Diagnostics) {
	raw, diags := p.GetKey(ctx, key)
	if diags.HasError() || len(raw) == 0 {
		return nil, diags
	}
	var out []T
	if err := json.Unmarshal(raw, &out); err != nil {
		diags.AddError("Reading private state "+key, err.Error())
	}
	return out, diags
}

// setPrivate writes list as JSON under key; nil is written as empty.
func setPrivate[T any](ctx context.Context, p privateSetter, key string, list []T) diag.Diagnostics {
	if list == nil {
		list = []T{}
	}
	raw, _ := json.Marshal(list)
	return p.SetKey(ctx, key, raw)
}
