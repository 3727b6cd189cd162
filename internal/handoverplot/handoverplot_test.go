package handoverplot

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"strings"
	"testing"
)

var out = flag.String("out", "", "also write the synthetic figure to this SVG file, to look at")

// synthetic is a run like the bench's: n datagrams 1 ms apart, the move at
// n/3; without forwarding everything after the move is lost, with it the
// datagrams of the move (9.4 ms), FBU → FBack 0.04 ms.
func synthetic(n int) Figure {
	moveAt := n / 3
	var without, with []Point
	for i := range n {
		x := float64(i-moveAt) + 0.02
		if i < moveAt {
			without = append(without, Point{X: x, Y: float64(i)})
		}
		if i < moveAt || x > 9.5 {
			with = append(with, Point{X: x + 0.01, Y: float64(i)})
		}
	}
	return Figure{
		Title: fmt.Sprintf("CN stream to the previous CoA across the move (%d datagrams, 1 ms apart)", n),
		Series: []Series{
			{Label: fmt.Sprintf("without FMIPv6 forwarding: %d lost", n-len(without)), Points: without},
			{Label: fmt.Sprintf("with FMIPv6 forwarding (FBU): %d lost", n-len(with)), Points: with},
		},
		Events: []Event{
			{Label: "link change (0 ms)", AtMS: 0},
			{Label: "FBU sent (+9.41 ms)", AtMS: 9.41},
			{Label: "FBack received (+9.45 ms)", AtMS: 9.45},
		},
		Detail: [2]float64{-10, 30},
	}
}

// svgElement is what the test reads of the SVG: every element with its
// style and, for <text>, its content.
type svgElement struct {
	name, style, text string
}

func parseSVG(t *testing.T, b []byte) []svgElement {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	var els []svgElement
	var root string
	inText := -1 // index of the open <text> element
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Local
			}
			el := svgElement{name: tok.Name.Local}
			for _, a := range tok.Attr {
				if a.Name.Local == "style" {
					el.style = a.Value
				}
			}
			els = append(els, el)
			if el.name == "text" {
				inText = len(els) - 1
			}
		case xml.EndElement:
			inText = -1
		case xml.CharData:
			if inText >= 0 {
				els[inText].text += string(tok)
			}
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q, want svg", root)
	}
	return els
}

func hex(c color.Color) string {
	r, g, b, _ := c.RGBA()
	return fmt.Sprintf("#%02X%02X%02X", r>>8, g>>8, b>>8)
}

// countStroked counts the <path> elements stroked with c.
func countStroked(els []svgElement, c color.Color) int {
	n := 0
	for _, el := range els {
		if el.name == "path" && strings.Contains(el.style, "stroke:"+hex(c)+";") {
			n++
		}
	}
	return n
}

func inRange(pts []Point, lo, hi float64) int {
	n := 0
	for _, p := range pts {
		if p.X >= lo && p.X <= hi {
			n++
		}
	}
	return n
}

func TestWriteSVG(t *testing.T) {
	f := synthetic(1000)
	var buf bytes.Buffer
	if err := f.WriteSVG(&buf); err != nil {
		t.Fatal(err)
	}
	if *out != "" {
		if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	els := parseSVG(t, buf.Bytes())
	texts := map[string]int{}
	for _, el := range els {
		if el.name == "text" {
			texts[el.text]++
		}
	}
	// Each series is in the legend once; each event is labelled in the
	// detail; the axis labels are on both panels.
	want := map[string]int{f.Title: 1, DefaultXLabel: 2, DefaultYLabel: 2}
	for _, s := range f.Series {
		want[s.Label] = 1
	}
	for _, e := range f.Events {
		want[e.Label] = 1
	}
	for text, n := range want {
		if texts[text] != n {
			t.Errorf("text %q appears %d times, want %d", text, texts[text], n)
		}
	}
	// Markers: every point in the upper panel, those in Detail again in
	// the lower one, one in the legend; a cross is two strokes, a ring one.
	for i, perMarker := range []int{2, 1} {
		s := f.Series[i]
		markers := len(s.Points) + inRange(s.Points, f.Detail[0], f.Detail[1]) + 1
		if got := countStroked(els, SeriesColor(i)); got != perMarker*markers {
			t.Errorf("series %q: %d marker strokes, want %d (%d points, %d in the detail)",
				s.Label, got, perMarker*markers, len(s.Points), inRange(s.Points, f.Detail[0], f.Detail[1]))
		}
	}
	// Each event is a line in both panels.
	for i, e := range f.Events {
		if got := countStroked(els, EventColor(i)); got != 2 {
			t.Errorf("event %q: %d lines, want 2", e.Label, got)
		}
	}
}

func TestWriteSVGWholeOnly(t *testing.T) {
	f := synthetic(60)
	f.Events, f.Detail = nil, [2]float64{}
	var buf bytes.Buffer
	if err := f.WriteSVG(&buf); err != nil {
		t.Fatal(err)
	}
	els := parseSVG(t, buf.Bytes())
	if got, want := countStroked(els, SeriesColor(1)), len(f.Series[1].Points)+1; got != want {
		t.Errorf("without events: %d markers of %q, want %d (no detail panel)", got, f.Series[1].Label, want)
	}
}

func TestDetailRange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		f      Figure
		lo, hi float64
		ok     bool
	}{
		{"no events", Figure{}, 0, 0, false},
		{"given", Figure{Detail: [2]float64{30, -5}}, -5, 30, true},
		{"close events: 10 ms margin", Figure{Events: []Event{{AtMS: 0}, {AtMS: 2}}}, -10, 22, true},
		{"spread events: their span as margin", Figure{Events: []Event{{AtMS: 5}, {AtMS: 45}}}, -35, 125, true},
	} {
		lo, hi, ok := tc.f.detailRange()
		if lo != tc.lo || hi != tc.hi || ok != tc.ok {
			t.Errorf("%s: detailRange = %v, %v, %v; want %v, %v, %v", tc.name, lo, hi, ok, tc.lo, tc.hi, tc.ok)
		}
	}
}

func TestWriteSVGErrors(t *testing.T) {
	for name, f := range map[string]Figure{
		"no series":     {},
		"four series":   {Series: make([]Series, 4)},
		"NaN point":     {Series: []Series{{Label: "a", Points: []Point{{X: math.NaN()}}}}},
		"infinte event": {Series: []Series{{Label: "a"}}, Events: []Event{{Label: "e", AtMS: math.Inf(1)}}},
	} {
		if err := f.WriteSVG(io.Discard); !errors.Is(err, ErrFigure) {
			t.Errorf("%s: err = %v, want ErrFigure", name, err)
		}
	}
}

func TestStepTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   string
	}{
		{-10, 30, "-10 -5 0 5 10 15 20 25 30"},
		{-340, 670, "-200 0 200 400 600"},
		{-41.5, 124.7, "-40 -20 0 20 40 60 80 100 120"},
		{0, 1, "0.0 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1.0"},
	} {
		var got []string
		for _, tk := range (stepTicks{}).Ticks(tc.lo, tc.hi) {
			got = append(got, tk.Label)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("Ticks(%v, %v) = %q, want %q", tc.lo, tc.hi, strings.Join(got, " "), tc.want)
		}
	}
}
