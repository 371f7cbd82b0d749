package userdata

import "testing"

func BenchmarkAssemble(b *testing.B) {
	parts, err := MasterParts(MasterSettings{
		Address: "10.0.1.10", InstanceID: "i-0123456789abcdef0", EnvFile: "/etc/clone/master.env",
		DisableServices: []string{"mysql", "redis-server", "cron"},
	})
	if err != nil {
		b.Fatal(err)
	}
	user := "#!/bin/sh\nsystemctl start nginx\n"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Assemble(parts, user); err != nil {
			b.Fatal(err)
		}
	}
}
