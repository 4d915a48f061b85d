package redisstore

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// SetLogger sends go-redis's own log lines (connection-pool trouble while
// Redis is away) to l as structured records, instead of plain text on the
// standard logger in the middle of a JSON log. Like go-redis's logger it
// is process-wide.
func SetLogger(l *slog.Logger) { redis.SetLogger(slogPrinter{l}) }

type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Printf(ctx context.Context, format string, v ...any) {
	p.l.WarnContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...))
}
