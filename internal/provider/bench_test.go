package provider

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/imageset"
)

// BenchmarkImageSetRead measures what clone_image's Read costs against the
// emulator for a set with a current image and two in its history: time per
// read and AWS calls per read.
func BenchmarkImageSetRead(b *testing.B) {
	world := acctest.World(b, "tf-acc-test-bench")
	proxy := acctest.NewProxy(b)
	ctx := context.Background()
	direct := acctest.Client(b).EC2
	viaProxy := ec2.NewFromConfig(acctest.AWSConfig(b), func(o *ec2.Options) { o.BaseEndpoint = &proxy.URL })

	setID := "cis-" + acctest.RandomName(17)[len(acctest.NamePrefix):]
	var baked []imageset.Image
	for range 3 {
		img, err := imageset.Bake(ctx, direct, imageset.BakeInput{
			SetID: setID, SourceInstanceID: world.MasterInstanceID, Name: imageName(acctest.RandomName(6), time.Now()), NoReboot: true,
		})
		if err != nil {
			b.Fatal(err)
		}
		baked = append(baked, img)
	}
	b.Cleanup(func() {
		for _, img := range baked {
			_ = imageset.Delete(context.Background(), direct, img)
		}
	})

	proxy.Reset()
	b.ResetTimer()
	for b.Loop() {
		set, err := imageset.FindSet(ctx, viaProxy, setID)
		if err != nil {
			b.Fatal(err)
		}
		if len(set.Images) != 3 {
			b.Fatalf("found %d images, want 3", len(set.Images))
		}
	}
	b.ReportMetric(float64(len(proxy.Calls()))/float64(b.N), "api-calls/op")
}
