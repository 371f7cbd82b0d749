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
	raw, diags := p.GetKey(ctx, privateMasterRegistrations)
	if diags.HasError() || len(raw) == 0 {
		return nil, diags
	}
	var regs []pool.Registration
	if err := json.Unmarshal(raw, &regs); err != nil {
		diags.AddError("Reading Clone Pool private state", err.Error())
	}
	return regs, diags
}

func setRegistrations(ctx context.Context, p privateSetter, regs []pool.Registration) diag.Diagnostics {
	if regs == nil {
		regs = []pool.Registration{}
	}
	raw, _ := json.Marshal(regs)
	return p.SetKey(ctx, privateMasterRegistrations, raw)
}
