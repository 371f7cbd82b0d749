package iampolicy

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var actionRE = regexp.MustCompile(`^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$`)

func TestPoliciesAreWellFormed(t *testing.T) {
	for name, d := range map[string]Document{
		"operator":        Operator(Scope{}),
		"operator scoped": Operator(FullScope),
		"clone":           Clone(Scope{}),
		"clone scoped":    Clone(FullScope),
	} {
		t.Run(name, func(t *testing.T) {
			if d.Version != Version {
				t.Errorf("Version = %q", d.Version)
			}
			sids := map[string]bool{}
			for _, st := range d.Statement {
				if sids[st.Sid] || !regexp.MustCompile(`^[A-Za-z0-9]+$`).MatchString(st.Sid) {
					t.Errorf("Sid %q is duplicated or not alphanumeric", st.Sid)
				}
				sids[st.Sid] = true
				if st.Effect != "Allow" || len(st.Action) == 0 || len(st.Resource) == 0 {
					t.Errorf("statement %s: effect %q, %d actions, %d resources", st.Sid, st.Effect, len(st.Action), len(st.Resource))
				}
				for _, a := range st.Action {
					if !actionRE.MatchString(a) {
						t.Errorf("statement %s: action %q is not service:Action", st.Sid, a)
					}
				}
				if !slices.IsSorted(st.Action) {
					t.Errorf("statement %s: actions are not sorted: %v", st.Sid, st.Action)
				}
				for _, r := range st.Resource {
					if r != "*" && !strings.HasPrefix(r, "arn:") {
						t.Errorf("statement %s: resource %q is neither * nor an ARN", st.Sid, r)
					}
				}
			}
			var back Document
			if err := json.Unmarshal([]byte(d.JSON()), &back); err != nil {
				t.Fatalf("JSON does not parse back: %v", err)
			}
		})
	}
}

func TestScope(t *testing.T) {
	s := Scope{
		Partition: "aws-cn", Region: "cn-north-1", AccountID: "123456789012",
		SyncPolicyNames: []string{"web", "api"},
		PoolNames:       []string{"web"},
	}
	clone := Clone(s)
	wantParams := []string{
		"arn:aws-cn:ssm:cn-north-1:123456789012:parameter/clone-sync/web/paths",
		"arn:aws-cn:ssm:cn-north-1:123456789012:parameter/clone-sync/web/private-key",
		"arn:aws-cn:ssm:cn-north-1:123456789012:parameter/clone-sync/api/paths",
		"arn:aws-cn:ssm:cn-north-1:123456789012:parameter/clone-sync/api/private-key",
	}
	if got := statement(t, clone, "ReadSyncParameters").Resource; !slices.Equal(got, wantParams) {
		t.Errorf("clone parameters = %v, want %v", got, wantParams)
	}
	wantGroup := []string{"arn:aws-cn:autoscaling:cn-north-1:123456789012:autoScalingGroup:*:autoScalingGroupName/web"}
	if got := statement(t, clone, "CompleteFirstSyncHook").Resource; !slices.Equal(got, wantGroup) {
		t.Errorf("clone hook = %v, want %v", got, wantGroup)
	}
	report := statement(t, clone, "ReportFirstSync")
	if !slices.Equal(report.Resource, []string{"arn:aws-cn:ec2:cn-north-1:123456789012:instance/*"}) ||
		!slices.Equal(report.Condition["StringLike"]["aws:ResourceTag/aws:autoscaling:groupName"], []string{"web"}) ||
		!slices.Equal(report.Condition["ForAllValues:StringEquals"]["aws:TagKeys"], []string{"clone:first-sync"}) {
		t.Errorf("ReportFirstSync = %+v", report)
	}
	op := Operator(s)
	if got := statement(t, op, "AutoScalingGroup").Resource; !slices.Equal(got, wantGroup) {
		t.Errorf("operator groups = %v, want %v", got, wantGroup)
	}
	if got, want := statement(t, op, "SyncParameters").Resource, []string{
		"arn:aws-cn:ssm:cn-north-1:123456789012:parameter/clone-sync/web/*",
		"arn:aws-cn:ssm:cn-north-1:123456789012:parameter/clone-sync/api/*",
	}; !slices.Equal(got, want) {
		t.Errorf("operator parameters = %v, want %v", got, want)
	}
	if got, want := statement(t, op, "SyncCommands").Resource, []string{
		"arn:aws-cn:ssm:cn-north-1:123456789012:document/clone-sync-web",
		"arn:aws-cn:ssm:cn-north-1:123456789012:document/clone-sync-api",
		"arn:aws-cn:ssm:cn-north-1::document/AWS-RunShellScript",
		"arn:aws-cn:ec2:cn-north-1:123456789012:instance/*",
	}; !slices.Equal(got, want) {
		t.Errorf("operator commands = %v, want %v", got, want)
	}
	if got, want := statement(t, op, "RecoveryAlarm").Resource, []string{"arn:aws-cn:cloudwatch:cn-north-1:123456789012:alarm:web-master-recovery"}; !slices.Equal(got, want) {
		t.Errorf("operator alarm = %v, want %v", got, want)
	}
	if pass := statement(t, op, "PassInstanceRole"); !slices.Equal(pass.Resource, []string{"*"}) ||
		!slices.Equal(pass.Condition["StringEquals"]["iam:PassedToService"], []string{"ec2.amazonaws.com"}) {
		t.Errorf("PassInstanceRole = %+v", pass)
	}
	for _, d := range []Document{op, clone} {
		if slices.ContainsFunc(d.Actions(), func(a string) bool { return strings.HasPrefix(a, "kms:") }) {
			t.Errorf("KMS actions without kms_key_arns: %v", d.Actions())
		}
	}

	s.KMSKeyARNs = []string{"arn:aws-cn:kms:cn-north-1:123456789012:key/k"}
	s.InstanceRoleARNs = []string{"arn:aws-cn:iam::123456789012:role/clone"}
	dec := statement(t, Clone(s), "DecryptSyncKey")
	if !slices.Equal(dec.Action, []string{"kms:Decrypt"}) || !slices.Equal(dec.Resource, s.KMSKeyARNs) ||
		!slices.Equal(dec.Condition["StringLike"]["kms:ViaService"], []string{"ssm.cn-north-1.amazonaws.com"}) {
		t.Errorf("DecryptSyncKey = %+v", dec)
	}
	if enc := statement(t, Operator(s), "SyncKeyEncryption"); !slices.Equal(enc.Action, []string{"kms:Decrypt", "kms:Encrypt"}) {
		t.Errorf("SyncKeyEncryption = %+v", enc)
	}
	if got := statement(t, Operator(s), "PassInstanceRole").Resource; !slices.Equal(got, s.InstanceRoleARNs) {
		t.Errorf("PassInstanceRole resources = %v", got)
	}
}

func statement(t *testing.T, d Document, sid string) Statement {
	t.Helper()
	for _, st := range d.Statement {
		if st.Sid == sid {
			return st
		}
	}
	t.Fatalf("no statement %s in %s", sid, d.JSON())
	return Statement{}
}

// TestDocFilesAreCurrent fails when examples/iam/ (which the IAM guide
// shows) is not what this package makes: run make generate.
func TestDocFilesAreCurrent(t *testing.T) {
	for name, want := range DocFiles() {
		got, err := os.ReadFile(filepath.Join("..", "..", "examples", "iam", name))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("examples/iam/%s is stale: run make generate", name)
		}
	}
}

func TestIAMAction(t *testing.T) {
	for _, tc := range []struct{ service, op, want string }{
		{"ec2", "DescribeImages", "ec2:DescribeImages"},
		{"elb", "DescribeInstanceHealth", "elasticloadbalancing:DescribeInstanceHealth"},
		{"elbv2", "DescribeTargetHealth", "elasticloadbalancing:DescribeTargetHealth"},
		{"elasticloadbalancingv2", "AddTags", "elasticloadbalancing:AddTags"},
		{"autoscaling", "CompleteLifecycleAction", "autoscaling:CompleteLifecycleAction"},
		{"ssm", "GetParameter", "ssm:GetParameter"},
		{"sts", "GetCallerIdentity", "sts:GetCallerIdentity"},
		{"monitoring", "PutMetricAlarm", "cloudwatch:PutMetricAlarm"},
	} {
		if got := IAMAction(tc.service, tc.op); got != tc.want {
			t.Errorf("IAMAction(%q, %q) = %q, want %q", tc.service, tc.op, got, tc.want)
		}
	}
}

func TestCallerOf(t *testing.T) {
	for ua, want := range map[string]Caller{
		"APN/1.0 HashiCorp/1.0 Terraform/1.11.4 (+https://www.terraform.io) terraform-provider-clone/test (+https://github.com/cloneserver/terraform-provider-clone) aws-sdk-go-v2/1.39.6 ua/2.1 os/linux lang/go#1.25.8 md/GOOS#linux api/ec2#1.260.0": Provider,
		"aws-cli/1.29.35 md/Botocore#1.31.35 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.2 md/pyimpl#CPython cfg/retry-mode#legacy botocore/1.31.35":                                                                                          CLI,
		"aws-cli/2.22.0 md/awscrt#0.23.4 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#debian.12 md/prompt#off md/command#ssm.get-parameter":                            CLI,
		"aws-sdk-go-v2/1.39.6 ua/2.1 os/linux lang/go#1.25.8 md/GOOS#linux api/ec2#1.260.0 m/E":                                                                                                                                                         Harness,
		"": Harness,
	} {
		if got := CallerOf(ua); got != want {
			t.Errorf("CallerOf(%q) = %v, want %v", ua, got, want)
		}
	}
}

func TestReadCalls(t *testing.T) {
	log := `{"service": "ec2", "action": "DescribeImages", "user_agent": "x terraform-provider-clone/dev y"}
{"service": "elbv2", "action": "DescribeTags", "user_agent": "terraform-provider-clone/dev"}
{"service": "elb", "action": "DescribeTags", "user_agent": "terraform-provider-clone/dev"}

{"service": "autoscaling", "action": "CompleteLifecycleAction", "user_agent": "aws-cli/1.29.35 botocore/1.31.35"}
{"service": "ec2", "action": "RunInstances", "user_agent": "aws-sdk-go-v2/1.39.6"}
`
	got, err := ReadCalls(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	for who, want := range map[Caller][]string{
		Provider: {"ec2:DescribeImages", "elasticloadbalancing:DescribeTags"},
		CLI:      {"autoscaling:CompleteLifecycleAction"},
		Harness:  {"ec2:RunInstances"},
	} {
		if !slices.Equal(got[who], want) {
			t.Errorf("caller %v: %v, want %v", who, got[who], want)
		}
	}
	if _, err := ReadCalls(strings.NewReader("not json\n")); err == nil {
		t.Error("a line that is not JSON was accepted")
	}
	if _, err := ReadCalls(strings.NewReader(`{"service": "ec2"}` + "\n")); err == nil {
		t.Error("a line without an action was accepted")
	}
}

func TestCheck(t *testing.T) {
	granted := []string{"ec2:A", "ec2:B", "iam:PassRole"}
	unobserved := map[string]string{"iam:PassRole": "checked by Auto Scaling", "kms:Decrypt": "not granted here"}
	ungranted := map[string]string{"sts:GetCallerIdentity": "needs none", "ec2:B": "listed by mistake"}
	got := Check(granted, []string{"ec2:A", "ec2:C", "sts:GetCallerIdentity"}, Exceptions{Unobserved: unobserved, Ungranted: ungranted})
	if want := []string{"ec2:C"}; !slices.Equal(got.Missing, want) {
		t.Errorf("Missing = %v, want %v", got.Missing, want)
	}
	if want := []string{"ec2:B"}; !slices.Equal(got.Unused, want) {
		t.Errorf("Unused = %v, want %v", got.Unused, want)
	}
	if want := []string{"ec2:B is granted but listed in Ungranted", "kms:Decrypt is listed in Unobserved but not granted"}; !slices.Equal(got.StaleExceptions, want) {
		t.Errorf("StaleExceptions = %v, want %v", got.StaleExceptions, want)
	}
	if got := Check(granted, []string{"ec2:A", "ec2:B"}, Exceptions{Unobserved: map[string]string{"iam:PassRole": "x"}}); got.Missing != nil || got.Unused != nil || got.StaleExceptions != nil {
		t.Errorf("exact coverage reported %+v", got)
	}
	unexercised := Exceptions{Unobserved: map[string]string{"iam:PassRole": "x"}, Unexercised: map[string]string{"ec2:B": "rare path", "ec2:Z": "gone"}}
	got = Check(granted, []string{"ec2:A"}, unexercised)
	if got.Missing != nil || got.Unused != nil || !slices.Equal(got.StaleExceptions, []string{"ec2:Z is listed in Unexercised but not granted"}) || got.Exercised != nil {
		t.Errorf("with ec2:B unexercised: %+v", got)
	}
	if got := Check(granted, []string{"ec2:A", "ec2:B"}, unexercised); !slices.Equal(got.Exercised, []string{"ec2:B"}) {
		t.Errorf("ec2:B called: Exercised = %v, want [ec2:B]", got.Exercised)
	}
}

// harnessPackages call AWS for the tests, not for users: the emulator, the
// seeding of test worlds, and the acceptance tests' audits.
var harnessPackages = []string{"acctest", "emulator", "seed", "iampolicy"}

// TestOperatorPolicyCoversSourceCalls reads the provider's Go source under
// internal/ and finds every aws-sdk-go-v2 operation it calls (builds an
// operation's Input or makes its paginator). Each must be in the operator policy
// or in Ungranted, so a new call fails here before any acceptance run.
func TestOperatorPolicyCoversSourceCalls(t *testing.T) {
	prefixes := map[string]string{
		"autoscaling": "autoscaling", "cloudwatch": "cloudwatch", "ec2": "ec2", "elasticloadbalancing": "elasticloadbalancing",
		"elasticloadbalancingv2": "elasticloadbalancing", "ssm": "ssm", "sts": "sts", "kms": "kms", "iam": "iam",
	}
	found := map[string][]string{} // action -> files
	root := filepath.Join("..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && slices.Contains(harnessPackages, d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		services := map[string]string{} // import name -> IAM prefix
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			svc, ok := strings.CutPrefix(p, "github.com/aws/aws-sdk-go-v2/service/")
			if !ok || prefixes[svc] == "" {
				continue
			}
			name := svc
			if imp.Name != nil {
				name = imp.Name.Name
			}
			services[name] = prefixes[svc]
		}
		// An operation is called where its Input is built (&svc.XInput{...})
		// or its paginator is made (svc.NewXPaginator(...)); an Input type
		// named only in an interface's method set is not a call.
		ast.Inspect(f, func(n ast.Node) bool {
			var sel *ast.SelectorExpr
			switch n := n.(type) {
			case *ast.CompositeLit:
				sel, _ = n.Type.(*ast.SelectorExpr)
			case *ast.CallExpr:
				sel, _ = n.Fun.(*ast.SelectorExpr)
			}
			if sel == nil {
				return true
			}
			pkg, ok := sel.X.(*ast.Ident)
			if !ok || services[pkg.Name] == "" {
				return true
			}
			name := sel.Sel.Name
			var op string
			switch {
			case strings.HasSuffix(name, "Input"):
				op = strings.TrimSuffix(name, "Input")
			case strings.HasPrefix(name, "New") && strings.HasSuffix(name, "Paginator"):
				op = strings.TrimSuffix(strings.TrimPrefix(name, "New"), "Paginator")
			case strings.HasPrefix(name, "New") && strings.HasSuffix(name, "Waiter"):
				t.Errorf("%s: waiter %s.%s: add the operation it polls to this test", path, pkg.Name, name)
				return true
			default:
				return true
			}
			a := services[pkg.Name] + ":" + op
			found[a] = append(found[a], path)
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) < 50 {
		t.Fatalf("found only %d operations in the source: the scan is broken", len(found))
	}
	granted := Operator(FullScope).Actions()
	for a, files := range found {
		if !slices.Contains(granted, a) && Ungranted["operator"][a] == "" {
			t.Errorf("%s (in %s) is not in the operator policy", a, strings.Join(slices.Compact(files), ", "))
		}
	}
	for _, a := range granted {
		if found[a] == nil && Unobserved["operator"][a] == "" {
			t.Errorf("%s is in the operator policy, but the provider's source never calls it", a)
		}
	}
	t.Logf("%d operations in the provider's source, all in the operator policy", len(found))
}

// TestClonePolicyCoversAgentCalls reads the sync agent's script and finds
// every AWS CLI command it runs (aws_cli SERVICE COMMAND). Each must be in
// the clone policy, and each clone policy action must be run by the agent
// or listed in Unobserved.
func TestClonePolicyCoversAgentCalls(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("..", "syncagent", "agent.sh"))
	if err != nil {
		t.Fatal(err)
	}
	called := map[string]bool{}
	for _, m := range regexp.MustCompile(`\baws_cli\s+([a-z0-9-]+)\s+([a-z0-9-]+)`).FindAllStringSubmatch(string(script), -1) {
		op := ""
		for _, w := range strings.Split(m[2], "-") {
			op += strings.ToUpper(w[:1]) + w[1:]
		}
		called[IAMAction(m[1], op)] = true
	}
	if len(called) < 2 {
		t.Fatalf("found only %v in agent.sh: the scan is broken", called)
	}
	granted := Clone(FullScope).Actions()
	for a := range called {
		if !slices.Contains(granted, a) && Ungranted["clone"][a] == "" {
			t.Errorf("the sync agent runs %s, which the clone policy does not grant", a)
		}
	}
	for _, a := range granted {
		if !called[a] && Unobserved["clone"][a] == "" {
			t.Errorf("the clone policy grants %s, which the sync agent never runs", a)
		}
	}
}
