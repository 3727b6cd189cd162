package subscribers

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fhkey/fhkey/mh"
)

// PostgresSchema creates the subscriber table if it is absent (docs/aaa.md,
// "Stores"). The table lives in the first schema of the connection's
// search_path. last_timestamp is TimestampOrder of the last accepted
// Timestamp, NULL before the first.
const PostgresSchema = `CREATE TABLE IF NOT EXISTS hks_subscribers (
	nai            text PRIMARY KEY CHECK (octet_length(nai) BETWEEN 1 AND 254),
	hmk            bytea NOT NULL CHECK (octet_length(hmk) BETWEEN 64 AND 1024),
	enabled        boolean NOT NULL DEFAULT true,
	ar_prefixes    cidr[] NOT NULL DEFAULT '{}',
	max_lifetime_s integer NOT NULL DEFAULT 0 CHECK (max_lifetime_s BETWEEN 0 AND 65535),
	last_timestamp bigint
)`

// Postgres is a Store store in a PostgreSQL table shared by several
// Handover Key Servers (behind a RADIUS home-server pool). HMKs are stored
// as bytea in the clear: encryption at rest is the database's (disk or
// tablespace encryption) and access is the database role's; connect over
// a Unix socket or TLS (sslmode=verify-full).
type Postgres struct {
	pool atomic.Pointer[pgxpool.Pool] // nil once closed
}

// OpenPostgres connects to the database of dsn (a libpq connection string
// or URL; pgx.ParseConfig) and creates the table if it is absent.
func OpenPostgres(ctx context.Context, dsn string) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN, password included: do not wrap it.
		return nil, fmt.Errorf("%w: %w: PostgreSQL connection string does not parse", ErrStore, ErrInvalid)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: PostgreSQL: %w", ErrStore, err)
	}
	if _, err := pool.Exec(ctx, PostgresSchema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("%w: PostgreSQL: creating hks_subscribers: %w", ErrStore, err)
	}
	p := &Postgres{}
	p.pool.Store(pool)
	return p, nil
}

func (p *Postgres) storeErr(err error) error {
	if p.pool.Load() == nil {
		return ErrClosed
	}
	return fmt.Errorf("%w: PostgreSQL: %w", ErrStore, err)
}

// db returns the pool, or ErrClosed.
func (p *Postgres) db() (*pgxpool.Pool, error) {
	if db := p.pool.Load(); db != nil {
		return db, nil
	}
	return nil, ErrClosed
}

// Get implements Subscribers.
func (p *Postgres) Get(ctx context.Context, nai string) (Subscriber, error) {
	if err := checkNAI(nai); err != nil {
		return Subscriber{}, err
	}
	db, err := p.db()
	if err != nil {
		return Subscriber{}, err
	}
	s := Subscriber{NAI: nai}
	var secs int32
	err = db.QueryRow(ctx, `SELECT hmk, enabled, ar_prefixes, max_lifetime_s FROM hks_subscribers WHERE nai = $1`, nai).
		Scan(&s.HMK, &s.Enabled, &s.ARPrefixes, &secs)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Subscriber{}, fmt.Errorf("%w: %q", ErrUnknownSubscriber, nai)
	case err != nil:
		s.Zero()
		return Subscriber{}, p.storeErr(err)
	}
	s.MaxLifetime = time.Duration(secs) * time.Second
	return s, checkStored(&s, true)
}

// checkStored validates a subscriber read back (the table's CHECKs do not
// cover everything Validate does).
func checkStored(s *Subscriber, withHMK bool) error {
	if len(s.ARPrefixes) == 0 {
		s.ARPrefixes = nil
	}
	c := *s
	if !withHMK {
		c.HMK = make([]byte, 64)
	}
	if err := c.Validate(); err != nil {
		s.Zero()
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return nil
}

// Put implements Subscribers: an upsert that leaves last_timestamp alone.
func (p *Postgres) Put(ctx context.Context, s *Subscriber) error {
	if err := s.Validate(); err != nil {
		return err
	}
	db, err := p.db()
	if err != nil {
		return err
	}
	prefixes := s.ARPrefixes
	if prefixes == nil {
		prefixes = []netip.Prefix{}
	}
	_, err = db.Exec(ctx, `INSERT INTO hks_subscribers (nai, hmk, enabled, ar_prefixes, max_lifetime_s)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (nai) DO UPDATE SET hmk = EXCLUDED.hmk, enabled = EXCLUDED.enabled,
			ar_prefixes = EXCLUDED.ar_prefixes, max_lifetime_s = EXCLUDED.max_lifetime_s`,
		s.NAI, s.HMK, s.Enabled, prefixes, int32(s.MaxLifetime/time.Second))
	if err != nil {
		return p.storeErr(err)
	}
	return nil
}

// Delete implements Subscribers.
func (p *Postgres) Delete(ctx context.Context, nai string) error {
	if err := checkNAI(nai); err != nil {
		return err
	}
	db, err := p.db()
	if err != nil {
		return err
	}
	tag, err := db.Exec(ctx, `DELETE FROM hks_subscribers WHERE nai = $1`, nai)
	if err != nil {
		return p.storeErr(err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %q", ErrUnknownSubscriber, nai)
	}
	return nil
}

// List implements Subscribers.
func (p *Postgres) List(ctx context.Context, withHMK bool) ([]Subscriber, error) {
	db, err := p.db()
	if err != nil {
		return nil, err
	}
	q := `SELECT nai, NULL::bytea, enabled, ar_prefixes, max_lifetime_s FROM hks_subscribers ORDER BY nai COLLATE "C"`
	if withHMK {
		q = `SELECT nai, hmk, enabled, ar_prefixes, max_lifetime_s FROM hks_subscribers ORDER BY nai COLLATE "C"`
	}
	rows, err := db.Query(ctx, q)
	if err != nil {
		return nil, p.storeErr(err)
	}
	defer rows.Close()
	var all []Subscriber
	fail := func(err error) ([]Subscriber, error) {
		for i := range all {
			all[i].Zero()
		}
		return nil, err
	}
	for rows.Next() {
		var (
			s    Subscriber
			secs int32
		)
		if err := rows.Scan(&s.NAI, &s.HMK, &s.Enabled, &s.ARPrefixes, &secs); err != nil {
			s.Zero()
			return fail(p.storeErr(err))
		}
		s.MaxLifetime = time.Duration(secs) * time.Second
		if err := checkStored(&s, withHMK); err != nil {
			return fail(err)
		}
		all = append(all, s)
	}
	if err := rows.Err(); err != nil {
		return fail(p.storeErr(err))
	}
	return all, nil
}

// AdvanceTimestamp implements Store with one statement,
//
//	UPDATE hks_subscribers SET last_timestamp = $2
//	WHERE nai = $1 AND (last_timestamp IS NULL OR last_timestamp < $2)
//
// which PostgreSQL runs under the row lock: of two servers racing with the
// same Timestamp, the second re-checks the WHERE clause against the first's
// committed row (READ COMMITTED's re-evaluation) and updates nothing.
func (p *Postgres) AdvanceTimestamp(ctx context.Context, nai string, ts mh.NTPTimestamp) (bool, error) {
	if err := checkNAI(nai); err != nil {
		return false, err
	}
	db, err := p.db()
	if err != nil {
		return false, err
	}
	tag, err := db.Exec(ctx, `UPDATE hks_subscribers SET last_timestamp = $2
		WHERE nai = $1 AND (last_timestamp IS NULL OR last_timestamp < $2)`, nai, TimestampOrder(ts))
	if err != nil {
		return false, p.storeErr(err)
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	// Nothing updated: a replay, or no such subscriber.
	if _, _, err := p.LastTimestamp(ctx, nai); err != nil {
		return false, err
	}
	return false, nil
}

// LastTimestamp implements Subscribers.
func (p *Postgres) LastTimestamp(ctx context.Context, nai string) (mh.NTPTimestamp, bool, error) {
	if err := checkNAI(nai); err != nil {
		return 0, false, err
	}
	db, err := p.db()
	if err != nil {
		return 0, false, err
	}
	var last *int64
	err = db.QueryRow(ctx, `SELECT last_timestamp FROM hks_subscribers WHERE nai = $1`, nai).Scan(&last)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, false, fmt.Errorf("%w: %q", ErrUnknownSubscriber, nai)
	case err != nil:
		return 0, false, p.storeErr(err)
	case last == nil:
		return 0, false, nil
	}
	return mh.NTPTimestamp(*last), true, nil
}

// Close implements Subscribers; it is idempotent.
func (p *Postgres) Close() error {
	if db := p.pool.Swap(nil); db != nil {
		db.Close()
	}
	return nil
}
