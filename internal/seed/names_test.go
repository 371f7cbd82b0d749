package seed

import (
	"strings"
	"testing"
)

func TestResourceName(t *testing.T) {
	long := strings.Repeat("a", 40)
	for _, tc := range []struct{ name, suffix, want string }{
		{"clone-demo", "alb", "clone-demo-alb"},
		{strings.Repeat("b", 28), "tg", strings.Repeat("b", 28) + "-tg"},
	} {
		if got := resourceName(tc.name, tc.suffix); got != tc.want {
			t.Errorf("resourceName(%q, %q) = %q, want %q", tc.name, tc.suffix, got, tc.want)
		}
	}
	a, b := resourceName(long+"x", "alb"), resourceName(long+"y", "alb")
	if a == b {
		t.Errorf("shortened names collide: %q", a)
	}
	for _, n := range []string{a, b, resourceName("abcdefghijklmnopqrstuvw-xyz-0123456789", "elb")} {
		if len(n) > maxLBNameLen || strings.Contains(n, "--") || !validName.MatchString(n) {
			t.Errorf("bad shortened name %q (%d chars)", n, len(n))
		}
	}
}

func TestValidateName(t *testing.T) {
	for name, ok := range map[string]bool{
		"clone-demo":            true,
		"a":                     true,
		"-x":                    false,
		"x-":                    false,
		"under_score":           false,
		"internal-web":          false,
		"":                      false,
		strings.Repeat("a", 65): false,
	} {
		if err := validateName(name); (err == nil) != ok {
			t.Errorf("validateName(%q) = %v", name, err)
		}
	}
}

func TestTFVars(t *testing.T) {
	w := &World{
		Region: "us-east-1", VpcID: "vpc-1", SubnetIDs: []string{"subnet-a", "subnet-b"},
		SecurityGroupID: "sg-1", MasterInstanceID: "i-1", TargetGroupArn: "arn:tg", ListenerArn: "arn:l",
		ClassicELBName: "demo-elb", CloneInstanceProfile: "demo-clone",
	}
	want := `region                 = "us-east-1"
vpc_id                 = "vpc-1"
subnet_ids             = ["subnet-a", "subnet-b"]
security_group_id      = "sg-1"
master_instance_id     = "i-1"
target_group_arn       = "arn:tg"
listener_arn           = "arn:l"
classic_elb_name       = "demo-elb"
clone_instance_profile = "demo-clone"
`
	if got := w.TFVars(); got != want {
		t.Errorf("TFVars =\n%s\nwant\n%s", got, want)
	}
	if got := hclString(`a"${b}\`); got != `"a\"$${b}\\"` {
		t.Errorf("hclString = %s", got)
	}
}
