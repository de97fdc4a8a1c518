package api

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/lambhq/lamb/engine/backend"
)

// Hot reload (docs/hot-reload.md): code given as S3Bucket "hot-reload" and an
// S3Key that is an absolute folder on lamb's host, LocalStack's convention, so
// that serverless-localstack, samlocal and scripts written for LocalStack work
// unchanged. The folder is not copied: backends use it in place, read-only,
// and a watch on it (hot_reload_watch.go) gives every saved state of it a
// revision of its own, which the engine keys its pools by. The first
// invocation after a save therefore gets fresh instances; the old ones finish
// their call and are stopped, as after UpdateFunctionCode.

// hotReloadBucket is the S3Bucket that means "S3Key is a folder on lamb's
// host" (LocalStack's default BUCKET_MARKER_LOCAL). Config.HotReloadBucket
// can name one more.
const hotReloadBucket = "hot-reload"

// hotReloadCodeSHA256 is what CodeSha256 answers for code in a folder, and
// CodeSize is 0, as on LocalStack: the folder has no zip to hash, and hashing
// its files at every save would cost more than a reload and still say nothing
// a client could check against a download (there is none).
const hotReloadCodeSHA256 = "hot-reloading-hash-not-available"

// HotReloadDebounce is how long a folder must stay quiet after a change
// before its new revision is used: an editor saving several files, or a build
// rewriting a tree, is one change. An invocation arriving meanwhile waits for
// the quiet (at most hotReloadMaxSettle) rather than running half-saved code.
// (LocalStack waits 500 ms.)
const HotReloadDebounce = 100 * time.Millisecond

const (
	defaultHotReloadDebounce = HotReloadDebounce
	hotReloadMaxSettle       = 2 * time.Second
)

// hotReloadFolder returns the folder code given as S3Bucket/S3Key names when
// the bucket is a hot-reload bucket, AWS's answer to S3 code otherwise (lamb
// has no S3), or an error saying why the folder cannot be used. zipGiven
// says whether a ZipFile came too.
func (s *Server) hotReloadFolder(bucket, key *string, zipGiven bool) (string, error) {
	if !s.isHotReloadBucket(bucket) {
		return "", errS3Unsupported()
	}
	if zipGiven {
		return "", errInvalidParameter("Please provide only one source for function code: ZipFile, or S3Bucket %s with S3Key a folder.", *bucket)
	}
	if key == nil || *key == "" {
		return "", errInvalidParameter("When using hot reloading, the archive key has to be an absolute path! Your archive key: ")
	}
	dir := expandHotReloadKey(*key)
	if !filepath.IsAbs(dir) {
		// LocalStack's words.
		return "", errInvalidParameter("When using hot reloading, the archive key has to be an absolute path! Your archive key: %s", *key)
	}
	if c, ok := s.cfg.Engine.(interface{ Capabilities() backend.Capabilities }); ok && !c.Capabilities().HostFolders {
		return "", errInvalidParameter("lamb's %s backend cannot run code from a folder on lamb's host (S3Bucket %s): start lamb with --backend process, or docker or podman with a local engine.",
			s.cfg.BackendName, *bucket)
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", errInvalidParameter("hot reload: the folder %s does not exist on lamb's host.", dir)
	case err != nil:
		return "", errInvalidParameter("hot reload: lamb cannot read the folder %s: %v", dir, err)
	case !fi.IsDir():
		return "", errInvalidParameter("hot reload: %s is not a folder; S3Key must name the folder holding the code, unzipped.", dir)
	}
	return *key, nil
}

// expandHotReloadKey expands $VAR and ${VAR} in a hot-reload S3Key with
// lamb's environment, as LocalStack does (cdklocal passes "$LAMBDA_MOUNT_CWD/dist"),
// and cleans the path.
func expandHotReloadKey(key string) string {
	dir := os.ExpandEnv(key)
	if dir == "" {
		return ""
	}
	return filepath.Clean(dir)
}

// setHotReload makes f's code the folder key (as given in S3Key), or, with
// key "", leaves the code the zip just set.
func setHotReload(f *functionRecord, key string) {
	f.CodeDir = key
	if key != "" {
		f.CodeSHA256Hex, f.CodeSHA256, f.CodeSize = "", hotReloadCodeSHA256, 0
	}
}

// hotReloadLocation is GetFunction's Code for code in a folder: LocalStack's
// answer, which names the folder where a URL to the zip would be.
func hotReloadLocation(f *functionRecord) functionCodeLocation {
	return functionCodeLocation{RepositoryType: "S3", Location: "Code location: " + f.CodeDir}
}

// hotReload keeps one watch per folder that functions run from. The zero
// value is ready; watches run on goroutines owned by the Server
// (goBackground): they stop when every function using the folder was
// deleted (forget) or when the Server closes.
type hotReload struct {
	mu       sync.Mutex
	watches  map[string]*folderWatch // by cleaned, expanded folder
	users    map[string]map[string]bool
	debounce time.Duration // 0: defaultHotReloadDebounce
}

// artifact returns the code of the function fnKey (functionKey) whose code
// is the folder key: the folder at its current revision, watched from now
// on.
func (s *Server) hotArtifact(fnKey, key string) backend.Artifact {
	dir := expandHotReloadKey(key)
	w := s.hotWatch(fnKey, dir)
	return backend.Artifact{Dir: dir, Revision: w.revision()}
}

// hotWatch returns the watch on dir, starting it if none runs, and records
// fnKey as one of its users.
func (s *Server) hotWatch(fnKey, dir string) *folderWatch {
	h := &s.hot
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.watches == nil {
		h.watches, h.users = map[string]*folderWatch{}, map[string]map[string]bool{}
	}
	if h.users[fnKey] == nil {
		h.users[fnKey] = map[string]bool{}
	}
	h.users[fnKey][dir] = true
	if w := h.watches[dir]; w != nil {
		return w
	}
	debounce := h.debounce
	if debounce <= 0 {
		debounce = defaultHotReloadDebounce
	}
	w := newFolderWatch(dir, debounce, s.log)
	h.watches[dir] = w
	s.goBackground(func(ctx context.Context) { w.run(ctx) })
	return w
}

// forgetHotReload stops the watches only the function fnKey used (called
// when it is deleted, with every version).
func (s *Server) forgetHotReload(fnKey string) {
	h := &s.hot
	h.mu.Lock()
	defer h.mu.Unlock()
	dirs := h.users[fnKey]
	delete(h.users, fnKey)
	for dir := range dirs {
		used := false
		for _, other := range h.users {
			if other[dir] {
				used = true
				break
			}
		}
		if !used {
			if w := h.watches[dir]; w != nil {
				w.stop()
				delete(h.watches, dir)
			}
		}
	}
}

// settleHotReload waits, before an invocation of f, until a change of f's
// folder that is under way (events seen, the folder not yet quiet for the
// debounce interval) has settled, so that an invoke right after a save runs
// the saved code. It waits at most hotReloadMaxSettle, or until ctx ends.
func (s *Server) settleHotReload(ctx context.Context, f *functionRecord) {
	// On every invoke: nothing to allocate or look up for zip code.
	var deadline time.Time
	settle := func(d string) {
		if deadline.IsZero() {
			deadline = time.Now().Add(hotReloadMaxSettle)
		}
		s.hotWatch(functionKey(f.scope(), f.Name), expandHotReloadKey(d)).settle(ctx, time.Until(deadline))
	}
	if f.CodeDir != "" {
		settle(f.CodeDir)
	}
	for _, l := range f.Layers {
		if l.Dir != "" {
			settle(l.Dir)
		}
	}
}

// hotReloadRevision is a watch's revision, for tests and logs.
func hotReloadRevision(epoch int64, gen uint64) string {
	return strconv.FormatInt(epoch, 36) + "." + strconv.FormatUint(gen, 10)
}
