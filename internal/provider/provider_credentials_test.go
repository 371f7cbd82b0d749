package provider

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	awsbase "github.com/hashicorp/aws-sdk-go-base/v2"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// TestProviderNoCredentials checks the error a user with no credentials
// reads: it points at documentation that exists (the provider is not on the
// Terraform Registry).
func TestProviderNoCredentials(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_ROLE_ARN": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_SHARED_CREDENTIALS_FILE": empty, "AWS_CONFIG_FILE": empty,
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "eu-west-1",
	} {
		t.Setenv(k, v)
	}
	m := providerModel{
		SharedConfigFiles:      types.ListNull(types.StringType),
		SharedCredentialsFiles: types.ListNull(types.StringType),
	}
	cfg, _, _, diags := m.awsbaseConfig(context.Background(), "test")
	if diags.HasError() {
		t.Fatalf("awsbaseConfig: %v", diags)
	}
	_, _, awsDiags := awsbase.GetAwsConfig(context.Background(), cfg)
	got := convertAWSBaseDiags(awsDiags)
	if !got.HasError() {
		t.Fatal("no error without credentials")
	}
	detail := got.Errors()[0].Detail()
	if strings.Contains(detail, "registry.terraform.io") {
		t.Errorf("the error links the Terraform Registry, where the provider is not published:\n%s", detail)
	}
	if want := "Please see the Authentication section of the provider documentation"; !strings.Contains(detail, want) {
		t.Errorf("the error does not say what to read (%q):\n%s", want, detail)
	}
}
