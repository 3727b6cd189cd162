package subscribers

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fhkey/fhkey/internal/testenv"
)

// postgres is a throwaway PostgreSQL cluster shared by this package's
// tests: initdb into a temporary directory, the server listening only on
// a Unix socket in it, stopped by PID in TestMain.
var (
	postgres    = testenv.NewShared(startPostgres)
	postgresDir string
	pgSchemas   atomic.Int64
)

const postgresPort = "5432" // names the socket file only: no TCP

func TestMain(m *testing.M) {
	code := m.Run()
	if err := postgres.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "postgres:", err)
		code = 1
	}
	if postgresDir != "" {
		os.RemoveAll(postgresDir)
	}
	os.Exit(code)
}

// postgresBin finds Debian's server binaries (/usr/lib/postgresql/N/bin,
// highest N: not on PATH) or a postgres on PATH.
func postgresBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin or PATH (Debian package postgresql)")
}

func postgresSocketDSN() string {
	return "host=" + postgresDir + " port=" + postgresPort + " user=fhkey dbname=postgres sslmode=disable"
}

func startPostgres() (*testenv.Server, error) {
	bin, err := postgresBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "fhkey-hks-pg-")
	if err != nil {
		return nil, err
	}
	postgresDir = dir
	// PostgreSQL refuses to run as root: run it as the postgres user,
	// owner of the directory.
	var prefix []string
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root and no postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
		runuser, err := exec.LookPath("runuser")
		if err != nil {
			return nil, err
		}
		prefix = []string{runuser, "-u", "postgres", "--"}
	}
	data := filepath.Join(dir, "data")
	argv := append(slices.Clone(prefix), filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "fhkey",
		"-E", "UTF8", "--locale=C", "--no-sync")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	argv = append(slices.Clone(prefix), filepath.Join(bin, "postgres"), "-D", data, "-k", dir, "-h", "", "-p", postgresPort,
		"-F", "-c", "max_connections=200", "-c", "log_min_messages=warning")
	return testenv.StartServer(ctx, "postgres", dir, func(*testenv.Server) error {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		c, err := pgx.Connect(cctx, postgresSocketDSN())
		if err != nil {
			return err
		}
		defer c.Close(cctx)
		return c.Ping(cctx)
	}, argv...)
}

// postgresDSN returns the DSN of a new, empty schema of the shared
// cluster (its search_path), starting the cluster on first use; without
// PostgreSQL the test is skipped, or fails under CI=true.
func postgresDSN(t testing.TB) string {
	t.Helper()
	if _, err := postgresBin(); err != nil {
		testenv.Unavailable(t, "%v", err)
	}
	if _, err := postgres.Get(); err != nil {
		t.Fatalf("starting PostgreSQL: %v", err)
	}
	schema := fmt.Sprintf("t%d", pgSchemas.Add(1))
	ctx := context.Background()
	c, err := pgx.Connect(ctx, postgresSocketDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	return postgresSocketDSN() + " search_path=" + schema
}

// openPostgres opens a Postgres store on a new schema.
func openPostgres(t *testing.T) Store {
	s, err := OpenPostgres(context.Background(), postgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
