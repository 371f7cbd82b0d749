package pool

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// foreignObjects puts, in f, one object of kind by the name pool "web"
// would give it, tagged with tags (nil: untagged).
var foreignObjects = map[string]func(f *fakeCloud, tags map[string]string){
	"Auto Scaling group": func(f *fakeCloud, tags map[string]string) {
		if tags == nil {
			tags = map[string]string{}
		}
		f.group = &Group{Name: "web", LaunchTemplateID: "lt-theirs", LaunchTemplateVersion: "1", MinSize: 1, MaxSize: 1, DesiredCapacity: 1, Tags: tags}
	},
	"launch template": func(f *fakeCloud, tags map[string]string) {
		f.templates["web"] = &Template{ID: "lt-theirs", Version: 1}
		f.versions["lt-theirs"] = []TemplateSpec{{ImageID: "ami-theirs"}}
		f.tags["lt-theirs"] = tags
	},
	"target group": func(f *fakeCloud, tags map[string]string) {
		arn := "arn:tg/web-master-theirs"
		f.tgs[arn] = elbv2types.TargetGroup{TargetGroupArn: aws.String(arn), TargetGroupName: aws.String("web-master")}
		f.tags[arn] = tags
	},
	"alarm": func(f *fakeCloud, tags map[string]string) {
		f.alarms["web-master-recovery"] = RecoveryAlarm{Name: "web-master-recovery", InstanceID: "i-0theirs"}
		f.tags["web-master-recovery"] = tags
	},
}

// TestApplyNeverAdoptsForeignObjects: an object by a name the pool would
// create under, that the pool did not create (untagged, or tagged by
// another pool), fails the create before anything is created, naming it;
// and a Destroy of what state then holds leaves it alone.
func TestApplyNeverAdoptsForeignObjects(t *testing.T) {
	if NamesFor("web").RecoveryAlarm != "web-master-recovery" || NamesFor("web").MasterTargetGroup != "web-master" {
		t.Fatalf("the test's names are out of date: %+v", NamesFor("web"))
	}
	for kind, put := range foreignObjects {
		for _, tags := range []map[string]string{nil, {TagPool: "shop"}, {"Name": "web"}} {
			t.Run(kind, func(t *testing.T) {
				f := newFakeCloud()
				put(f, tags)
				obs, err := Apply(context.Background(), f, testDesired(), nil, nil)
				var foreign *ForeignError
				if !errors.As(err, &foreign) || foreign.Kind != kind {
					t.Fatalf("Apply = %v, want a ForeignError naming the %s; calls:\n%s", err, kind, strings.Join(f.calls, "\n"))
				}
				for _, want := range []string{kind, "web", "Clone Pool (web)", TagPool} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not name %q", err, want)
					}
				}
				if m := mutating(f.calls); len(m) > 0 {
					t.Errorf("made %v before refusing", m)
				}
				if obs.GroupExists || obs.LaunchTemplateID != "" || obs.MasterTargetGroupARN != "" {
					t.Errorf("observed %+v: state would record the foreign object", obs)
				}
				before := len(f.calls)
				if err := Destroy(context.Background(), f, Prior{Desired: testDesired(), Observed: obs}, nil); err != nil {
					t.Fatalf("Destroy: %v", err)
				}
				if m := mutating(f.calls[before:]); len(m) > 0 {
					t.Errorf("Destroy made %v on an object it did not create", m)
				}
			})
		}
	}
}

// TestApplyTakesOverItsOwnLeftovers: what a create interrupted before
// state was saved left, tagged with the pool's name, is taken over, not
// created twice.
func TestApplyTakesOverItsOwnLeftovers(t *testing.T) {
	for kind, put := range foreignObjects {
		t.Run(kind, func(t *testing.T) {
			f := newFakeCloud()
			put(f, map[string]string{TagPool: "web"})
			apply(t, f, testDesired(), nil)
			create := map[string]string{"Auto Scaling group": "CreateGroup", "launch template": "CreateTemplate ", "target group": "CreateMasterTargetGroup"}[kind]
			for _, c := range f.calls {
				if create != "" && strings.HasPrefix(c, create) {
					t.Errorf("made %q: the pool's own %s was not taken over", c, kind)
				}
			}
		})
	}
}

// TestApplyCreateKeepsTheInterruptedCreatesClones: a create killed after
// the group launched its clones saved no state; the next create takes the
// template and group over, and as the template's default version is the
// one it would write, it neither adds a version nor rolls the clones.
func TestApplyCreateKeepsTheInterruptedCreatesClones(t *testing.T) {
	f := newFakeCloud()
	d := testDesired()
	apply(t, f, d, nil)
	f.calls = nil
	apply(t, f, d, nil)
	for _, c := range mutating(f.calls) {
		if strings.HasPrefix(c, "Create") || strings.HasPrefix(c, "Retire") || strings.HasPrefix(c, "SetTemplateVersion") {
			t.Errorf("the create after the interrupted one made %q", c)
		}
	}
	changed := d
	changed.Template.InstanceType = "t3.small"
	f.calls = nil
	apply(t, f, changed, nil)
	index(t, f.calls, "CreateTemplateVersion")
}

// TestApplyClaimsNamesAddedLater: a write rule or recovery alarm added to
// an existing pool claims its name like a create does.
func TestApplyClaimsNamesAddedLater(t *testing.T) {
	for _, kind := range []string{"target group", "alarm"} {
		t.Run(kind, func(t *testing.T) {
			f := newFakeCloud()
			d := testDesired()
			d.Master.WritePaths, d.Master.RecoveryAlarm = nil, false
			obs := apply(t, f, d, nil)
			foreignObjects[kind](f, nil)
			f.calls = nil
			prior := &Prior{Desired: d, Observed: obs}
			_, err := Apply(context.Background(), f, testDesired(), prior, nil)
			var foreign *ForeignError
			if !errors.As(err, &foreign) || foreign.Kind != kind {
				t.Fatalf("Apply = %v, want a ForeignError naming the %s", err, kind)
			}
			if m := mutating(f.calls); len(m) > 0 {
				t.Errorf("made %v before refusing", m)
			}
		})
	}
}
