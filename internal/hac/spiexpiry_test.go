package hac

import (
	"bytes"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/fhkey/fhkey/mip6tls"
)

// TestSPITableExpiry: an SPI is reserved until its SA's validity end and
// free again after it, in the order of the ends whatever the order of
// allocation; a released SPI reserved again is not freed by its old
// entry.
func TestSPITableExpiry(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tab := spiTable{used: map[mip6tls.SPI]time.Time{}}
	spis := func(b ...byte) *bytes.Reader {
		var r []byte
		for _, x := range b {
			r = append(r, 0, 0, 0, x)
		}
		return bytes.NewReader(r)
	}
	alloc := func(r *bytes.Reader, now, end time.Time) mip6tls.SPI {
		t.Helper()
		spi, err := allocateFrom(&tab, r, now, end)
		if err != nil {
			t.Fatal(err)
		}
		return spi
	}
	held := func() []mip6tls.SPI {
		var s []mip6tls.SPI
		for spi := range tab.used {
			s = append(s, spi)
		}
		slices.Sort(s)
		return s
	}
	alloc(spis(1), t0, t0.Add(3*time.Second))
	alloc(spis(2), t0, t0.Add(time.Second))
	alloc(spis(3), t0, t0.Add(2*time.Second))
	// SPI 1 is taken: the next random value is used.
	if got := alloc(spis(1, 4), t0, t0.Add(5*time.Second)); got != 4 {
		t.Fatalf("allocated %d over a reserved SPI", got)
	}
	tab.release(4)
	alloc(spis(4), t0, t0.Add(9*time.Second)) // reserved again, later end
	// At t0+2s, SPIs 2 and 3 expired; 4's first entry (t0+5s) is not yet due.
	alloc(spis(5), t0.Add(2*time.Second), t0.Add(9*time.Second))
	if got, want := held(), []mip6tls.SPI{1, 4, 5}; !slices.Equal(got, want) {
		t.Fatalf("held %v, want %v", got, want)
	}
	// At t0+6s, 1 expired; 4's stale entry (t0+5s) does not free it.
	alloc(spis(6), t0.Add(6*time.Second), t0.Add(9*time.Second))
	if got, want := held(), []mip6tls.SPI{4, 5, 6}; !slices.Equal(got, want) {
		t.Fatalf("held %v, want %v", got, want)
	}
	if len(tab.expiry) != 3 {
		t.Errorf("%d entries queued, want 3", len(tab.expiry))
	}
}

// BenchmarkSPIAllocate: one allocation with many SAs still valid costs
// O(log n), not a scan of them.
func BenchmarkSPIAllocate(b *testing.B) {
	tab := spiTable{used: map[mip6tls.SPI]time.Time{}}
	now := time.Now()
	end := now.Add(time.Hour)
	r := newCounterReader()
	for range 100000 {
		if _, err := allocateFrom(&tab, r, now, end); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		spi, err := allocateFrom(&tab, r, now, end)
		if err != nil {
			b.Fatal(err)
		}
		tab.release(spi)
	}
}

// counterReader yields 1, 2, 3, ... as 4-octet big-endian SPIs.
type counterReader struct{ n uint32 }

func newCounterReader() *counterReader { return &counterReader{} }

func (c *counterReader) Read(p []byte) (int, error) {
	for i := 0; i+4 <= len(p); i += 4 {
		c.n++
		p[i], p[i+1], p[i+2], p[i+3] = byte(c.n>>24), byte(c.n>>16), byte(c.n>>8), byte(c.n)
	}
	return len(p) - len(p)%4, nil
}

// allocateFrom reads the first candidate from r, as newSA reads it with
// the keys, and allocates.
func allocateFrom(tab *spiTable, r io.Reader, now, end time.Time) (mip6tls.SPI, error) {
	var first [4]byte
	if _, err := io.ReadFull(r, first[:]); err != nil {
		return 0, err
	}
	return tab.allocate(first, r, now, end)
}
