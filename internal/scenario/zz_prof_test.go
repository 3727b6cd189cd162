package scenario

import (
	"context"
	"testing"
)

func TestZZProf(t *testing.T) {
	res, err := BenchTLS(context.Background(), TLSBenchConfig{Batches: 80, Packets: 10, DataBatches: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
}
