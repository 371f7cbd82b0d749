package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// TestProviderSingleBlocksValidate validates provider configurations
// through the provider server: the single blocks may be left out without
// their nested validators firing, and a block that is there still needs
// its role_arn and exactly one web identity token source.
func TestProviderSingleBlocksValidate(t *testing.T) {
	ctx := context.Background()
	server, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	sch, err := server.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	typ := sch.Provider.ValueType().(tftypes.Object)
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	block := func(name string, set map[string]tftypes.Value) tftypes.Value {
		bt := typ.AttributeTypes[name].(tftypes.Object)
		vals := map[string]tftypes.Value{}
		for k, at := range bt.AttributeTypes {
			vals[k] = tftypes.NewValue(at, nil)
		}
		for k, v := range set {
			vals[k] = v
		}
		return tftypes.NewValue(bt, vals)
	}
	for _, tc := range []struct {
		name string
		set  map[string]tftypes.Value
		want string // "" for no error
	}{
		{"no blocks", map[string]tftypes.Value{"region": str("us-east-1")}, ""},
		{"assume_role", map[string]tftypes.Value{"assume_role": block("assume_role", map[string]tftypes.Value{"role_arn": str(testAccRoleARN)})}, ""},
		{"assume_role without role_arn", map[string]tftypes.Value{"assume_role": block("assume_role", map[string]tftypes.Value{"session_name": str("ci")})}, "assume_role.role_arn"},
		{"web identity with a token file", map[string]tftypes.Value{"assume_role_with_web_identity": block("assume_role_with_web_identity",
			map[string]tftypes.Value{"role_arn": str(testAccRoleARN), "web_identity_token_file": str("/var/run/token")})}, ""},
		{"web identity without a token", map[string]tftypes.Value{"assume_role_with_web_identity": block("assume_role_with_web_identity",
			map[string]tftypes.Value{"role_arn": str(testAccRoleARN)})}, "web_identity_token"},
		{"web identity with a token and a token file", map[string]tftypes.Value{"assume_role_with_web_identity": block("assume_role_with_web_identity",
			map[string]tftypes.Value{"role_arn": str(testAccRoleARN), "web_identity_token": str("eyJ"), "web_identity_token_file": str("/var/run/token")})}, "web_identity_token_file"},
		{"web identity without role_arn", map[string]tftypes.Value{"assume_role_with_web_identity": block("assume_role_with_web_identity",
			map[string]tftypes.Value{"web_identity_token_file": str("/var/run/token")})}, "assume_role_with_web_identity.role_arn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vals := map[string]tftypes.Value{}
			for k, at := range typ.AttributeTypes {
				vals[k] = tftypes.NewValue(at, nil)
			}
			for k, v := range tc.set {
				vals[k] = v
			}
			cfg, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, vals))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := server.ValidateProviderConfig(ctx, &tfprotov6.ValidateProviderConfigRequest{Config: &cfg})
			if err != nil {
				t.Fatal(err)
			}
			var msgs []string
			for _, d := range resp.Diagnostics {
				if d.Severity == tfprotov6.DiagnosticSeverityError {
					msgs = append(msgs, d.Summary+": "+d.Detail)
				}
			}
			got := strings.Join(msgs, "\n")
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("errors:\n%s\nwant one naming %q", got, tc.want)
			}
		})
	}
}

// TestClonePoolSingleBlocksValidate: a pool without its single blocks
// validates, so no nested validator fires on an absent block.
func TestClonePoolSingleBlocksValidate(t *testing.T) {
	ctx := context.Background()
	server, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	sch, err := server.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	typ := sch.ResourceSchemas["clone_pool"].ValueType().(tftypes.Object)
	vals := map[string]tftypes.Value{}
	for k, at := range typ.AttributeTypes {
		vals[k] = tftypes.NewValue(at, nil)
	}
	vals["name"] = tftypes.NewValue(tftypes.String, "web")
	vals["image_id"] = tftypes.NewValue(tftypes.String, "ami-0123456789abcdef0")
	vals["instance_type"] = tftypes.NewValue(tftypes.String, "t3.micro")
	vals["subnet_ids"] = tftypes.NewValue(tftypes.List{ElementType: tftypes.String}, []tftypes.Value{tftypes.NewValue(tftypes.String, "subnet-0123456789abcdef0")})
	vals["min_size"] = tftypes.NewValue(tftypes.Number, 1)
	vals["max_size"] = tftypes.NewValue(tftypes.Number, 2)
	cfg, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, vals))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := server.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: "clone_pool", Config: &cfg})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.Diagnostics {
		t.Errorf("%s: %s", d.Summary, d.Detail)
	}
}
