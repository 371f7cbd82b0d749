package pool

import (
	"strings"
	"testing"
)

func TestNamesFor(t *testing.T) {
	long := strings.Repeat("a", 30) + "-" + strings.Repeat("b", 33)
	tests := []struct {
		pool     string
		masterTG string
	}{
		{"web", "web-master"},
		{"tf-acc-test-0123456789", "tf-acc-test-0123456789-master"},
		{long, "aaaaaaaaaaaaaaaaa-b2c4b5a3-master"},
	}
	for _, tt := range tests {
		n := NamesFor(tt.pool)
		if n.Group != tt.pool || n.LaunchTemplate != tt.pool {
			t.Errorf("%s: group %q, template %q", tt.pool, n.Group, n.LaunchTemplate)
		}
		if len(n.MasterTargetGroup) > 32 || !nameRE.MatchString(n.MasterTargetGroup) {
			t.Errorf("%s: master target group name %q is not a valid target group name", tt.pool, n.MasterTargetGroup)
		}
		if tt.pool != long && n.MasterTargetGroup != tt.masterTG {
			t.Errorf("%s: master target group %q, want %q", tt.pool, n.MasterTargetGroup, tt.masterTG)
		}
		if n.RecoveryAlarm != tt.pool+"-master-recovery" {
			t.Errorf("%s: alarm %q", tt.pool, n.RecoveryAlarm)
		}
	}
	a, b := NamesFor(long), NamesFor(long[:len(long)-1]+"c")
	if a.MasterTargetGroup == b.MasterTargetGroup {
		t.Errorf("long names collide: %q", a.MasterTargetGroup)
	}
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"web", "a", "tf-acc-test-1", strings.Repeat("x", 64)} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("ValidateName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-web", "web-", "web_1", "web.1", "we b", strings.Repeat("x", 65)} {
		if err := ValidateName(bad); err == nil {
			t.Errorf("ValidateName(%q) accepted", bad)
		}
	}
}
