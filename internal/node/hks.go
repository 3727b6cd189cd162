package node

import (
	"context"
	"fmt"
	"time"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/hks"
)

// OpenSubscribers opens the Handover Key Server's subscriber store of st
// (the [subscribers] section of hks.toml): the bbolt file, or the
// PostgreSQL database of dsn (HKSSecrets.DSN, read from st.DSNFile).
func OpenSubscribers(ctx context.Context, st config.SubscriberStore, dsn string) (hks.Subscribers, error) {
	switch st.Type {
	case config.SubscriberStoreBolt:
		return hks.OpenBolt(st.Path, time.Second)
	case config.SubscriberStorePostgres:
		return hks.OpenPostgres(ctx, dsn)
	}
	return nil, fmt.Errorf("node: subscriber store type %q", st.Type)
}
