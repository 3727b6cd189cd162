package daemon

import (
	"io"
	"log/slog"

	"github.com/fhkey/fhkey/internal/config"
)

// NewLogger returns the logger the [log] section asks for, writing to w,
// and the LevelVar that controls it (a reload changes the level in place;
// the format is fixed for the life of the process).
func NewLogger(w io.Writer, l config.Log) (*slog.Logger, *slog.LevelVar) {
	lv := new(slog.LevelVar)
	lv.Set(l.Level)
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	if l.Format == config.LogJSON {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(h), lv
}
