package handoverplot

import (
	"cmp"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Point is one datagram: X its arrival time in milliseconds, Y its
// sequence number.
type Point struct {
	X, Y float64
}

// Series is the datagrams of one run, drawn with one marker and colour.
type Series struct {
	Label  string
	Points []Point
}

// Event is a moment of the handover, drawn as a labelled vertical line.
type Event struct {
	Label string
	AtMS  float64
}

// Figure is what WriteSVG draws: an upper panel with the whole of every
// series, and a lower one with the part around the events (Detail), where
// single datagrams and the events can be told apart.
type Figure struct {
	Title  string
	XLabel string // default DefaultXLabel
	YLabel string // default DefaultYLabel
	Series []Series
	Events []Event
	// Detail is the X range of the lower panel; when Detail[0] ==
	// Detail[1] it is chosen around the events. Without events and
	// without Detail, the lower panel is left out.
	Detail [2]float64
}

// Default axis labels.
const (
	DefaultXLabel = "arrival at the MN (ms from the start of the move)"
	DefaultYLabel = "datagram sequence number"
)

// Size of the figure.
const (
	Width  = 8 * vg.Inch
	Height = 8 * vg.Inch
)

// ErrFigure reports a figure that cannot be drawn.
var ErrFigure = errors.New("handoverplot: figure")

var (
	seriesStyles = []draw.GlyphStyle{
		{Color: color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, Shape: draw.CrossGlyph{}, Radius: vg.Points(3)},
		{Color: color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, Shape: draw.RingGlyph{}, Radius: vg.Points(3)},
		{Color: color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, Shape: draw.TriangleGlyph{}, Radius: vg.Points(2.5)},
	}
	// Events close together (the FBU and its FBack) draw their lines
	// over each other: solid under dashed under dotted, so each shows.
	eventStyles = []draw.LineStyle{
		{Color: color.RGBA{R: 0x44, G: 0x44, B: 0x44, A: 0xff}, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(5), vg.Points(3)}},
		{Color: color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, Width: vg.Points(1.6)},
		{Color: color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, Width: vg.Points(1.6), Dashes: []vg.Length{vg.Points(2), vg.Points(2)}},
		{Color: color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff}, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(8), vg.Points(2), vg.Points(2), vg.Points(2)}},
	}
)

// SeriesColor returns the colour of series i, for tests and captions.
func SeriesColor(i int) color.Color { return seriesStyles[i%len(seriesStyles)].Color }

// EventColor returns the colour of event i's line.
func EventColor(i int) color.Color { return eventStyles[i%len(eventStyles)].Color }

// WriteSVG draws f as SVG to w.
func (f Figure) WriteSVG(w io.Writer) error {
	if len(f.Series) == 0 || len(f.Series) > len(seriesStyles) {
		return fmt.Errorf("%w: %d series, want 1 to %d", ErrFigure, len(f.Series), len(seriesStyles))
	}
	for _, s := range f.Series {
		for _, p := range s.Points {
			if err := plotter.CheckFloats(p.X, p.Y); err != nil {
				return fmt.Errorf("%w: series %q: %w", ErrFigure, s.Label, err)
			}
		}
	}
	for _, e := range f.Events {
		if err := plotter.CheckFloats(e.AtMS); err != nil {
			return fmt.Errorf("%w: event %q: %w", ErrFigure, e.Label, err)
		}
	}
	lo, hi, detail := f.detailRange()
	whole := f.panel(math.Inf(-1), math.Inf(1), false)
	whole.Title.Text = f.Title
	rows := [][]*plot.Plot{{whole}}
	if detail {
		zoom := f.panel(lo, hi, true)
		zoom.Title.Text = "around the move (detail)"
		rows = append(rows, []*plot.Plot{zoom})
	}
	c := vgsvg.New(Width, Height)
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: len(rows), Cols: 1, PadY: vg.Points(18), PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(12)}
	canvases := plot.Align(rows, tiles, dc)
	for i := range rows {
		rows[i][0].Draw(canvases[i][0])
	}
	_, err := c.WriteTo(w)
	return err
}

// detailRange is the X range of the lower panel: Detail, or the events'
// span with a margin of that span (at least 10 ms) before and twice that
// after, where the series resume.
func (f Figure) detailRange() (lo, hi float64, ok bool) {
	if f.Detail[0] != f.Detail[1] {
		return min(f.Detail[0], f.Detail[1]), max(f.Detail[0], f.Detail[1]), true
	}
	if len(f.Events) == 0 {
		return 0, 0, false
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, e := range f.Events {
		lo, hi = min(lo, e.AtMS), max(hi, e.AtMS)
	}
	margin := max(hi-lo, 10)
	return lo - margin, hi + 2*margin, true
}

// panel builds a plot of the points with lo ≤ X ≤ hi and of the events in
// that range: the detail, with labelled events and large markers, when
// labels is set, or else the whole, with the legend.
func (f Figure) panel(lo, hi float64, labels bool) *plot.Plot {
	p := plot.New()
	p.X.Label.Text = cmp.Or(f.XLabel, DefaultXLabel)
	p.Y.Label.Text = cmp.Or(f.YLabel, DefaultYLabel)
	p.Add(plotter.NewGrid())
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	scatters := make([]*plotter.Scatter, len(f.Series))
	for i, s := range f.Series {
		xys := make(plotter.XYs, 0, len(s.Points))
		for _, pt := range s.Points {
			if pt.X < lo || pt.X > hi {
				continue
			}
			xys = append(xys, plotter.XY{X: pt.X, Y: pt.Y})
			xmin, xmax, ymin, ymax = min(xmin, pt.X), max(xmax, pt.X), min(ymin, pt.Y), max(ymax, pt.Y)
		}
		sc := &plotter.Scatter{XYs: xys, GlyphStyle: seriesStyles[i]}
		if !labels {
			sc.GlyphStyle.Radius = vg.Points(1.5)
			p.Legend.Add(s.Label, &plotter.Scatter{GlyphStyle: seriesStyles[i]})
		}
		scatters[i] = sc
	}
	// The later series are drawn first, so that the first one (the run
	// that loses datagrams) stays visible where they coincide.
	for i := len(scatters) - 1; i >= 0; i-- {
		p.Add(scatters[i])
	}
	var events []Event
	var styles []draw.LineStyle
	for i, e := range f.Events {
		if e.AtMS >= lo && e.AtMS <= hi {
			events = append(events, e)
			styles = append(styles, eventStyles[i%len(eventStyles)])
			xmin, xmax = min(xmin, e.AtMS), max(xmax, e.AtMS)
		}
	}
	if !math.IsInf(lo, 0) {
		xmin, xmax = lo, hi
	}
	if xmin > xmax { // nothing at all
		xmin, xmax, ymin, ymax = 0, 1, 0, 1
	}
	if ymin > ymax {
		ymin, ymax = 0, 1
	}
	if ymin == ymax {
		ymin, ymax = ymin-1, ymax+1
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = xmin, xmax, ymin, ymax
	for i, e := range events {
		p.Add(&plotter.Line{XYs: plotter.XYs{{X: e.AtMS, Y: ymin}, {X: e.AtMS, Y: ymax}}, LineStyle: styles[i]})
	}
	if labels && len(events) > 0 {
		p.Add(eventLabels(events, styles, xmax-xmin, ymin, ymax))
	}
	p.X.Tick.Marker = stepTicks{}
	// The upper panel's legend goes to the lower right, below the series
	// after the move; the lower panel has the same markers and none.
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(8), vg.Points(8)
	return p
}

// eventLabels puts each event's label just right of its line, in the
// bottom fifth of the panel (right of the move the series are higher
// up), the first event highest so that labels of close events do not
// overlap. A label starts right of the lines within 2 % of the width
// (xspan) after its own, so that it does not cross them.
func eventLabels(events []Event, styles []draw.LineStyle, xspan, ymin, ymax float64) *plotter.Labels {
	xys := make(plotter.XYs, len(events))
	texts := make([]string, len(events))
	step := (ymax - ymin) / 20
	for i, e := range events {
		x := e.AtMS
		for _, o := range events {
			if o.AtMS > x && o.AtMS <= e.AtMS+xspan/50 {
				x = o.AtMS
			}
		}
		xys[i] = plotter.XY{X: x, Y: ymin + step*float64(len(events)-i)}
		texts[i] = e.Label
	}
	l, _ := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: texts}) // the values were checked
	for i := range l.TextStyle {
		l.TextStyle[i].Color = styles[i].Color
		l.TextStyle[i].XAlign = draw.XLeft
	}
	l.Offset = vg.Point{X: vg.Points(4)}
	return l
}

// stepTicks labels an axis every 1, 2 or 5 × 10^k, at most eleven times.
type stepTicks struct{}

// Ticks implements plot.Ticker.
func (stepTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return nil
	}
	raw := (hi - lo) / 10
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	prec := max(0, -int(math.Floor(math.Log10(step))))
	var ticks []plot.Tick
	for k := math.Ceil(lo / step); k*step <= hi; k++ {
		v := k * step
		if v == 0 {
			v = 0 // not -0
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', prec, 64)})
	}
	return ticks
}
