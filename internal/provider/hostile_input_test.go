package provider

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
)

// hostileCase is one invalid configuration: resources (and provider block
// lines) and a regexp for the attribute its error must name.
type hostileCase struct {
	name     string
	provider string // lines of the provider block besides its endpoints
	config   string
	want     string
}

// hostileAttrs renders a resource block: the defaults of base, each
// replaced by override when it names the attribute, the other overrides,
// then extra lines.
func hostileAttrs(typ, label string, base [][2]string, override map[string]string, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "resource %q %q {\n", typ, label)
	rest := maps.Clone(override)
	for _, kv := range base {
		v := kv[1]
		if o, ok := override[kv[0]]; ok {
			v = o
			delete(rest, kv[0])
		}
		fmt.Fprintf(&b, "  %s = %s\n", kv[0], v)
	}
	for _, k := range slices.Sorted(maps.Keys(rest)) {
		fmt.Fprintf(&b, "  %s = %s\n", k, rest[k])
	}
	b.WriteString(extra)
	b.WriteString("\n}\n")
	return b.String()
}

func hostilePool(override map[string]string, extra string) string {
	return hostileAttrs("clone_pool", "test", [][2]string{
		{"name", `"web"`}, {"image_id", `"ami-0123456789abcdef0"`}, {"instance_type", `"t3.micro"`},
		{"subnet_ids", `["subnet-0123456789abcdef0"]`}, {"min_size", "1"}, {"max_size", "2"},
	}, override, extra)
}

func hostileMaster(lines string) string {
	return "  master {\n    instance_id = \"i-0123456789abcdef0\"\n" + lines + "\n  }"
}

func hostileSync(override map[string]string, extra string) string {
	return hostileAttrs("clone_sync_policy", "test", [][2]string{
		{"name", `"web"`}, {"master_instance_id", `"i-0123456789abcdef0"`},
		{"paths", `[{ source = "/srv/app/www", destination = "/var/www" }]`},
	}, override, extra)
}

func hostileSyncPath(source, destination, exclude string) string {
	return hostileSync(map[string]string{"paths": fmt.Sprintf(`[{ source = %s, destination = %s, exclude = %s }]`, source, destination, exclude)}, "")
}

func hostileImage(override map[string]string, extra string) string {
	return hostileAttrs("clone_image", "test", [][2]string{
		{"source_instance_id", `"i-0123456789abcdef0"`}, {"name_prefix", `"web"`},
	}, override, extra)
}

// hostileTags is n tags t0 = "v" ... as HCL.
func hostileTags(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("t%d = \"v\"", i)
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

// hostileCases are the invalid configurations, at least one for every
// validator of the provider, its resources and data sources.
func hostileCases() []hostileCase {
	const nlb = `"arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/web/0123456789abcdef/0123456789abcdef"`
	const alb = `"arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/0123456789abcdef/0123456789abcdef"`
	const role = `"arn:aws:iam::123456789012:role/deployer"`
	long := func(n int) string { return `"` + strings.Repeat("a", n) + `"` }
	image := func(k, v string) string { return hostileImage(map[string]string{k: v}, "") }
	poolAttr := func(k, v string) string { return hostilePool(map[string]string{k: v}, "") }
	pool := func(extra string) string { return hostilePool(nil, extra) }
	syncAttr := func(k, v string) string { return hostileSync(map[string]string{k: v}, "") }
	dataSource := `data "clone_image" "x" {
  name_prefix = "web"
}`
	return []hostileCase{
		// The provider block.
		{"region", `region = "us-east-1; reboot"`, dataSource, `region`},
		{"assume_role role_arn", "assume_role {\n role_arn = \"deployer\"\n}", dataSource, `role_arn`},
		{"assume_role duration", "assume_role {\n role_arn = " + role + "\n duration = \"5m\"\n}", dataSource, `duration`},
		{"assume_role session_name", "assume_role {\n role_arn = " + role + "\n session_name = \"$(id)\"\n}", dataSource, `session_name`},
		{"assume_role external_id", "assume_role {\n role_arn = " + role + "\n external_id = \"x\"\n}", dataSource, `external_id`},
		{"assume_role source_identity", "assume_role {\n role_arn = " + role + "\n source_identity = \"a b\"\n}", dataSource, `source_identity`},
		{"web identity token and file", "assume_role_with_web_identity {\n role_arn = " + role + "\n web_identity_token = \"t\"\n web_identity_token_file = \"/t\"\n}", dataSource, `web_identity_token`},
		{"web identity role_arn", "assume_role_with_web_identity {\n role_arn = \"arn:aws:iam::123456789012:user/x\"\n web_identity_token = \"t\"\n}", dataSource, `role_arn`},
		{"web identity session_name", "assume_role_with_web_identity {\n role_arn = " + role + "\n web_identity_token = \"t\"\n session_name = \"`id`\"\n}", dataSource, `session_name`},
		{"endpoint without scheme", "", dataSource, `ec2`}, // hostileProvider puts the bad URL in
		{"default_tags aws: key", "default_tags {\n tags = { \"aws:owner\" = \"x\" }\n}", dataSource, `Reserved tag key.*default_tags\.tags\["aws:owner"\]`},
		{"default_tags key of 129", "default_tags {\n tags = { " + long(129) + " = \"x\" }\n}", dataSource, `default_tags.*has 129 characters`},

		// clone_image and its data source.
		{"image source_instance_id", "", image("source_instance_id", `"i-0123456789abcdef0;reboot"`), `source_instance_id`},
		{"image name_prefix empty", "", image("name_prefix", `""`), `name_prefix`},
		{"image name_prefix of 101", "", image("name_prefix", long(101)), `name_prefix`},
		{"image name_prefix shell", "", image("name_prefix", `"web$(id)"`), `name_prefix`},
		{"image description of 256", "", image("description", long(256)), `description`},
		{"image retain_previous 51", "", image("retain_previous", "51"), `retain_previous`},
		{"image tag key aws:", "", image("tags", `{ "AWS:created" = "x" }`), `Reserved tag key.*tags`},
		{"image tag key clone:", "", image("tags", `{ "Clone:image-set" = "x" }`), `Reserved tag key.*tags`},
		{"image tag key of 129", "", image("tags", "{ "+long(129)+" = \"x\" }"), `tags.*has 129 characters`},
		{"image tag key empty", "", image("tags", `{ "" = "x" }`), `tags.*has 0 characters`},
		{"image tag value of 257", "", image("tags", "{ k = "+long(257)+" }"), `tags\["k"\].*has 257 characters`},
		{"image tag value with backticks", "", image("tags", "{ k = \"`reboot`\" }"), `tags\["k"\].*characters AWS refuses`},
		{"image 41 tags", "", image("tags", hostileTags(41)), `tags.*at most 40`},
		{"image data source set_id", "", "data \"clone_image\" \"x\" {\n  set_id = \"ami-0123456789abcdef0\"\n}", `set_id`},
		{"image data source name_prefix", "", "data \"clone_image\" \"x\" {\n  name_prefix = \"web;reboot\"\n}", `name_prefix`},
		{"image data source name_prefix of 129", "", "data \"clone_image\" \"x\" {\n  name_prefix = " + long(129) + "\n}", `name_prefix`},
		{"image data source neither", "", `data "clone_image" "x" {}`, `set_id.*name_prefix`},

		// clone_pool and its data source.
		{"pool name of 2", "", poolAttr("name", `"ab"`), `name.*launch template name has at least 3`},
		{"pool name of 65", "", poolAttr("name", long(65)), `Invalid Clone Pool name`},
		{"pool name with shell", "", poolAttr("name", `"web;reboot"`), `Invalid Clone Pool name`},
		{"pool name leading hyphen", "", poolAttr("name", `"-web"`), `Invalid Clone Pool name`},
		{"pool image_id", "", poolAttr("image_id", `"ami-$(id)"`), `image_id`},
		{"pool instance_type", "", poolAttr("instance_type", `"t3.micro;reboot"`), `instance_type`},
		{"pool subnet_ids empty", "", poolAttr("subnet_ids", `[]`), `subnet_ids`},
		{"pool subnet_ids duplicate", "", poolAttr("subnet_ids", `["subnet-0123456789abcdef0", "subnet-0123456789abcdef0"]`), `subnet_ids`},
		{"pool security_group_ids 6", "", pool(`security_group_ids = ["sg-00000001", "sg-00000002", "sg-00000003", "sg-00000004", "sg-00000005", "sg-00000006"]`), `security_group_ids`},
		{"pool key_name of 256", "", pool("key_name = " + long(256)), `key_name`},
		{"pool iam_instance_profile", "", pool(`iam_instance_profile = "web profile"`), `iam_instance_profile`},
		{"pool min_size -1", "", poolAttr("min_size", "-1"), `min_size`},
		{"pool max_size 10001", "", poolAttr("max_size", "10001"), `max_size`},
		{"pool min above max", "", poolAttr("min_size", "3"), `min_size \(3\) must not exceed max_size`},
		{"pool desired above max", "", pool("desired_capacity = 3"), `desired_capacity \(3\) must lie within`},
		{"pool target_group_arns", "", pool(`target_group_arns = ["tg-web"]`), `target_group_arns`},
		{"pool classic_elb_names", "", pool(`classic_elb_names = ["-elb"]`), `classic_elb_names`},
		{"pool tag value with $()", "", pool(`tags = { k = "$(reboot)" }`), `tags\["k"\].*characters AWS refuses`},
		{"pool tags with default_tags over 40", "default_tags {\n tags = " + hostileTags(30) + "\n}", pool("tags = { own1 = \"v\", own2 = \"v\", own3 = \"v\", own4 = \"v\", own5 = \"v\", own6 = \"v\", own7 = \"v\", own8 = \"v\", own9 = \"v\", own10 = \"v\", own11 = \"v\" }"), `Too many tags.*tags`},
		{"pool sync_policy_id", "", pool(`sync_policy_id = "web/../x"`), `sync_policy_id`},
		{"pool user_data over 16 KB", "", pool(`user_data = "` + strings.Repeat("x", 17000) + `"`), `user_data`},
		{"pool timeouts", "", pool("timeouts {\n create = \"forever\"\n}"), `Time Duration.*create = "forever"`},
		{"pool two master blocks", "", pool(hostileMaster("") + "\n" + hostileMaster("")), `master`},
		{"master instance_id", "", pool("master {\n instance_id = \"web-1\"\n}"), `instance_id`},
		{"master write_paths without listener", "", pool(hostileMaster(`write_paths = ["/upload/*"]`)), `listener_arn`},
		{"master write_paths with ;", "", pool(hostileMaster(`write_paths = ["/upload/*;reboot"]` + "\nlistener_arn = " + alb + "\nrule_priority = 5")), `write_paths`},
		{"master write_paths 6", "", pool(hostileMaster(`write_paths = ["/a", "/b", "/c", "/d", "/e", "/f"]` + "\nlistener_arn = " + alb + "\nrule_priority = 5")), `write_paths`},
		{"master NLB listener", "", pool(hostileMaster(`write_paths = ["/upload/*"]` + "\nlistener_arn = " + nlb + "\nrule_priority = 5")), `listener_arn`},
		{"master rule_priority 0", "", pool(hostileMaster(`write_paths = ["/upload/*"]` + "\nlistener_arn = " + alb + "\nrule_priority = 0")), `rule_priority`},
		{"master env_file with ..", "", pool(hostileMaster(`env_file = "/etc/app/../passwd"`)), `env_file`},
		{"master env_file relative", "", pool(hostileMaster(`env_file = "etc/master.env"`)), `env_file`},
		{"master disable_services", "", pool(hostileMaster(`disable_services = ["mysql;reboot"]`)), `disable_services`},
		{"rolling_update batch_size 0", "", pool("rolling_update {\n batch_size = 0\n}"), `batch_size`},
		{"rolling_update min_healthy_percent 101", "", pool("rolling_update {\n min_healthy_percent = 101\n}"), `min_healthy_percent`},
		{"rolling_update health_timeout 5s", "", pool("rolling_update {\n health_timeout = \"5s\"\n}"), `health_timeout`},
		{"scaling target_cpu_percent 0", "", pool("scaling {\n target_cpu_percent = 0\n}"), `target_cpu_percent`},
		{"schedule name", "", pool("scaling {\n schedule {\n name = \"-x\"\n recurrence = \"0 22 * * *\"\n min_size = 1\n }\n}"), `schedule\[0\]\.name`},
		{"schedule recurrence with $()", "", pool("scaling {\n schedule {\n recurrence = \"$(reboot) 22 * * *\"\n min_size = 1\n }\n}"), `recurrence`},
		{"schedule min above max", "", pool("scaling {\n schedule {\n recurrence = \"0 22 * * *\"\n min_size = 3\n max_size = 2\n }\n}"), `schedule.*min_size \(3\) must not exceed`},
		{"schedule without sizes", "", pool("scaling {\n schedule {\n recurrence = \"0 22 * * *\"\n }\n}"), `schedule.*at least one of min_size`},
		{"pool subnet id", "", poolAttr("subnet_ids", `["subnet-$(id)"]`), `subnet_ids`},
		{"pool security group id", "", pool(`security_group_ids = ["sg-0123;reboot"]`), `security_group_ids`},
		{"pool desired_capacity -1", "", hostilePool(map[string]string{"min_size": "0"}, "desired_capacity = -1"), `desired_capacity`},
		{"master write_paths duplicate", "", pool(hostileMaster(`write_paths = ["/a", "/a"]` + "\nlistener_arn = " + alb + "\nrule_priority = 5")), `write_paths`},
		{"master rule_priority without write_paths", "", pool(hostileMaster("rule_priority = 5")), `write_paths`},
		{"master listener_arn without write_paths", "", pool(hostileMaster("listener_arn = " + alb)), `write_paths`},
		{"master disable_services duplicate", "", pool(hostileMaster(`disable_services = ["mysql", "mysql"]`)), `disable_services`},
		{"two rolling_update blocks", "", pool("rolling_update {\n}\nrolling_update {\n}"), `rolling_update`},
		{"two scaling blocks", "", pool("scaling {\n}\nscaling {\n}"), `scaling`},
		{"101 schedules", "", pool("scaling {\n" + strings.Repeat("schedule {\n recurrence = \"0 22 * * *\"\n min_size = 1\n}\n", 101) + "}"), `schedule`},
		{"schedule max_size 10001", "", pool("scaling {\n schedule {\n recurrence = \"0 22 * * *\"\n max_size = 10001\n }\n}"), `max_size`},
		{"schedule names collide", "", pool("scaling {\n schedule {\n name = \"a\"\n recurrence = \"0 22 * * *\"\n min_size = 1\n }\n schedule {\n name = \"a\"\n recurrence = \"0 7 * * *\"\n min_size = 2\n }\n}"), `name = "a".*schedules 0 and 1 would both be named "a"`},
		{"pool data source name", "", "data \"clone_pool\" \"x\" {\n  name = \"ab\"\n}", `Invalid Clone Pool name.*launch template`},

		// clone_sync_policy: the paths and excludes that could reach a shell.
		{"sync name with ..", "", syncAttr("name", `"web/../x"`), `Invalid sync policy name`},
		{"sync name of 65", "", syncAttr("name", long(65)), `Invalid sync policy name`},
		{"sync master_instance_id", "", syncAttr("master_instance_id", `"master"`), `master_instance_id`},
		{"sync paths empty", "", syncAttr("paths", `[]`), `paths`},
		{"sync source relative", "", hostileSyncPath(`"srv/www"`, `"/var/www"`, "[]"), `paths\[0\]\.source.*absolute`},
		{"sync source leading -", "", hostileSyncPath(`"-e sh"`, `"/var/www"`, "[]"), `paths\[0\]\.source.*absolute`},
		{"sync source ..", "", hostileSyncPath(`"/srv/www/../../etc"`, `"/var/www"`, "[]"), `paths\[0\]\.source.*'\.\.'`},
		{"sync source $()", "", hostileSyncPath(`"/srv/$(reboot)"`, `"/var/www"`, "[]"), `paths\[0\]\.source.*shell`},
		{"sync source backticks", "", hostileSyncPath("\"/srv/`reboot`\"", `"/var/www"`, "[]"), `paths\[0\]\.source.*shell`},
		{"sync source ;", "", hostileSyncPath(`"/srv/www;reboot"`, `"/var/www"`, "[]"), `paths\[0\]\.source.*shell`},
		{"sync source newline", "", hostileSyncPath(`"/srv/www\nreboot"`, `"/var/www"`, "[]"), `paths\[0\]\.source.*control characters`},
		{"sync source NUL", "", hostileSyncPath(`"/srv/www\u0000x"`, `"/var/www"`, "[]"), `paths\[0\]\.source.*control characters`},
		{"sync destination glob", "", hostileSyncPath(`"/srv/www"`, `"/var/www/*"`, "[]"), `paths\[0\]\.destination.*glob`},
		{"sync destination root", "", hostileSyncPath(`"/srv/www"`, `"/"`, "[]"), `paths\[0\]\.destination.*root directory`},
		{"sync exclude newline", "", hostileSyncPath(`"/srv/www"`, `"/var/www"`, `["a\nb"]`), `paths\[0\]\.exclude\[0\].*newline`},
		{"sync exclude empty", "", hostileSyncPath(`"/srv/www"`, `"/var/www"`, `[""]`), `paths\[0\]\.exclude\[0\].*empty`},
		{"sync exclude $()", "", hostileSyncPath(`"/srv/www"`, `"/var/www"`, `["$(reboot)"]`), `paths\[0\]\.exclude\[0\].*shell`},
		{"sync exclude ;", "", hostileSyncPath(`"/srv/www"`, `"/var/www"`, `["*.log; rm -rf /"]`), `paths\[0\]\.exclude\[0\].*shell`},
		{"sync 65 paths", "", syncAttr("paths", "["+strings.Repeat(`{ source = "/srv/www", destination = "/var/www" }, `, 65)+"]"), `paths`},
		{"sync 101 excludes", "", hostileSyncPath(`"/srv/www"`, `"/var/www"`, "["+strings.Repeat(`"*.tmp", `, 101)+"]"), `exclude`},
		{"sync sources share only /", "", syncAttr("paths", `[{ source = "/srv/www", destination = "/a" }, { source = "/etc/app", destination = "/b" }]`), `paths.*share no directory below /`},
		{"sync interval 30s", "", syncAttr("interval", `"30s"`), `interval`},
		{"sync bandwidth 3", "", syncAttr("bandwidth_limit_kbps", "3"), `bandwidth_limit_kbps`},
		{"sync ssh_user", "", syncAttr("ssh_user", `"root;reboot"`), `ssh_user`},
		{"sync ssh_port", "", syncAttr("ssh_port", "70000"), `ssh_port`},
		{"sync kms_key_id", "", syncAttr("kms_key_id", `"alias/aws"`), `kms_key_id`},
		{"sync tag key clone:", "", syncAttr("tags", `{ "clone:sync-policy" = "x" }`), `Reserved tag key.*tags`},
	}
}

// hostileUnknownCases are configurations whose invalid value comes from
// terraform_data, unknown while planning: the plan must succeed, and the
// apply must refuse the value before anything is created.
func hostileUnknownCases() []hostileCase {
	data := func(v string) string {
		return fmt.Sprintf("resource \"terraform_data\" \"x\" {\n  input = %s\n}\n", v)
	}
	return []hostileCase{
		{"unknown pool name", "", data(`"web_1"`) + hostilePool(map[string]string{"name": "terraform_data.x.output"}, ""), `Invalid Clone Pool name`},
		{"unknown pool min_size", "", data("3") + hostilePool(map[string]string{"min_size": "terraform_data.x.output"}, ""), `min_size \(3\) must not exceed max_size`},
		{"unknown env_file", "", data(`"/etc/app/../passwd"`) + hostilePool(nil, hostileMaster("env_file = terraform_data.x.output")), `env_file`},
		{"unknown sync source", "", data(`"/srv/$(reboot)"`) + hostileSyncPath("terraform_data.x.output", `"/var/www"`, "[]"), `paths\[0\]\.source.*shell`},
		{"unknown sync exclude", "", data(`"$(reboot)"`) + hostileSyncPath(`"/srv/www"`, `"/var/www"`, "[terraform_data.x.output]"), `paths\[0\]\.exclude\[0\].*shell`},
		{"unknown tag value", "", data("\"`reboot`\"") + hostileImage(map[string]string{"tags": "{ k = terraform_data.x.output }"}, ""), `tags\["k"\].*characters AWS refuses`},
		{"unknown tag key", "", data(`"aws:owner"`) + hostileImage(map[string]string{"tags": "{ (terraform_data.x.output) = \"x\" }"}, ""), `Reserved tag key.*tags`},
		{"unknown default_tags value", "default_tags {\n tags = { owner = terraform_data.x.output }\n}", data(`"a;b"`) + hostileImage(nil, ""), `default_tags.*characters AWS refuses`},
	}
}

// hostileProvider is the provider block with every endpoint on the
// recording proxy; the endpoint case gets a URL without a scheme for ec2.
func hostileProvider(tc hostileCase, proxyURL string) string {
	ec2 := proxyURL
	if tc.name == "endpoint without scheme" {
		ec2 = strings.TrimPrefix(proxyURL, "http://")
	}
	return fmt.Sprintf(`provider "clone" {
  endpoints {
    autoscaling = %[1]q
    cloudwatch  = %[1]q
    ec2         = %[2]q
    elb         = %[1]q
    elbv2       = %[1]q
    ssm         = %[1]q
    sts         = %[1]q
  }
%[3]s
}
`, proxyURL, ec2, tc.provider)
}

// TestAccHostileInput runs every invalid configuration through terraform
// against the recording proxy: each is refused at plan time (or, when its
// value is unknown while planning, at apply) with an error naming its
// attribute, and none makes a mutating AWS call.
func TestAccHostileInput(t *testing.T) {
	acctest.SkipUnlessAcc(t)
	proxy := acctest.NewProxy(t)
	var atPlan, atApply atomic.Int64
	cases, unknown := hostileCases(), hostileUnknownCases()

	t.Run("group", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				resource.Test(t, resource.TestCase{
					ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
					Steps: []resource.TestStep{{
						Config:      hostileProvider(tc, proxy.URL) + tc.config,
						PlanOnly:    true,
						ExpectError: hostileWant(tc.want),
					}},
				})
				if !t.Failed() {
					atPlan.Add(1)
				}
			})
		}
		for _, tc := range unknown {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				cfg := hostileProvider(tc, proxy.URL) + tc.config
				resource.Test(t, resource.TestCase{
					ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
					Steps: []resource.TestStep{
						// The plan holds no spurious error.
						{Config: cfg, PlanOnly: true, ExpectNonEmptyPlan: true},
						{Config: cfg, ExpectError: hostileWant(tc.want)},
					},
				})
				if !t.Failed() {
					atApply.Add(1)
				}
			})
		}
	})

	mutating := mutatingCalls(proxy.Calls())
	for _, c := range mutating {
		t.Errorf("mutating call %s:%s", c.Service, c.Action)
	}
	t.Logf("hostile input: %d configurations rejected at plan time, %d with values unknown at plan time rejected at apply, %d mutating calls (%d calls in all)",
		atPlan.Load(), atApply.Load(), len(mutating), len(proxy.Calls()))
	if int(atPlan.Load()) != len(cases) || int(atApply.Load()) != len(unknown) {
		t.Errorf("%d of %d plan-time and %d of %d apply-time cases were rejected as they should be",
			atPlan.Load(), len(cases), atApply.Load(), len(unknown))
	}
}

// hostileWant matches an error whose text after "Error:" matches want,
// any space in want standing for the line breaks terraform wraps text with.
func hostileWant(want string) *regexp.Regexp {
	return regexp.MustCompile(`(?s)Error: .*` + strings.ReplaceAll(want, " ", `\s+`))
}

// mutatingCalls are the calls that may change something: any action not
// starting with Describe, Get or List.
func mutatingCalls(calls []acctest.Call) []acctest.Call {
	var out []acctest.Call
	for _, c := range calls {
		if !strings.HasPrefix(c.Action, "Describe") && !strings.HasPrefix(c.Action, "Get") && !strings.HasPrefix(c.Action, "List") {
			out = append(out, c)
		}
	}
	return out
}

// TestHostileValidators holds each validator this file's cases exercise on
// the boundary values, without terraform.
func TestHostileValidators(t *testing.T) {
	checks := []struct {
		what string
		err  bool
		got  bool
	}{
		{"tag key of 128", false, checkTagString(strings.Repeat("k", 128), 1, maxTagKeyLen) != ""},
		{"tag key of 129", true, checkTagString(strings.Repeat("k", 129), 1, maxTagKeyLen) != ""},
		{"tag value of 256 non-ASCII letters", false, checkTagString(strings.Repeat("ü", 256), 0, maxTagValueLen) != ""},
		{"tag value of 257", true, checkTagString(strings.Repeat("v", 257), 0, maxTagValueLen) != ""},
		{"tag value empty", false, checkTagString("", 0, maxTagValueLen) != ""},
		{"tag value with AWS's punctuation", false, checkTagString("a b_c.d:e/f=g+h-i@j", 0, maxTagValueLen) != ""},
		{"tag value with ;", true, checkTagString("a;b", 0, maxTagValueLen) != ""},
		{"pool name of 3", false, validatePoolName("web") != nil},
		{"pool name of 2", true, validatePoolName("ab") != nil},
		{"pool name of 64", false, validatePoolName(strings.Repeat("a", 64)) != nil},
		{"sync path plain", false, validateSyncPath("/srv/app/www-1.2_@x") != nil},
		{"sync path with $", true, validateSyncPath("/srv/$HOME") != nil},
		{"sync path with glob", true, validateSyncPath("/srv/*") != nil},
		{"sync path with quote", true, validateSyncPath("/srv/it's") != nil},
		{"exclude glob", false, validateSyncExclude("**/*.tmp") != nil},
		{"exclude with parentheses", false, validateSyncExclude("Copy (2).txt") != nil},
		{"exclude with backtick", true, validateSyncExclude("`id`") != nil},
		{"env file clean", false, !absolutePathRegexp.MatchString("/etc/app/.master.env")},
		{"env file ..name", false, !absolutePathRegexp.MatchString("/etc/..env")},
		{"env file with ..", true, !absolutePathRegexp.MatchString("/etc/../passwd")},
		{"env file with .", true, !absolutePathRegexp.MatchString("/etc/./passwd")},
		{"env file with //", true, !absolutePathRegexp.MatchString("/etc//passwd")},
		{"env file dir", true, !absolutePathRegexp.MatchString("/etc/app/")},
		{"path pattern with every character ALB allows", false, !pathPatternRegexp.MatchString(`/up_load-1.x/~a/$b/'c'/"d"@e:f+g&h/*.jpg?`)},
		{"path pattern with ;", true, !pathPatternRegexp.MatchString("/upload/*;x")},
		{"ALB listener", false, !listenerARNRegexp.MatchString("arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/0123456789abcdef/0123456789abcdef")},
		{"NLB listener", true, !listenerARNRegexp.MatchString("arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/web/0123456789abcdef/0123456789abcdef")},
		{"cron", false, !recurrenceRegexp.MatchString("0 7 * * MON-FRI")},
		{"cron with steps and lists", false, !recurrenceRegexp.MatchString("*/15 0,12 1-5 JAN,JUL *")},
		{"cron with $()", true, !recurrenceRegexp.MatchString("$(reboot) 7 * * *")},
	}
	for _, c := range checks {
		if c.got != c.err {
			t.Errorf("%s: refused = %v, want %v", c.what, c.got, c.err)
		}
	}
	names := map[string]bool{}
	for _, tc := range append(hostileCases(), hostileUnknownCases()...) {
		if names[tc.name] {
			t.Errorf("two cases are named %q", tc.name)
		}
		names[tc.name] = true
	}
}
