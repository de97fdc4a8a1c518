package api

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lambhq/lamb/runtimes"
	"github.com/lambhq/lamb/store"
)

type publishLayerVersionInput struct {
	Description             string        `json:"Description"`
	Content                 *functionCode `json:"Content"`
	CompatibleRuntimes      []string      `json:"CompatibleRuntimes"`
	LicenseInfo             string        `json:"LicenseInfo"`
	CompatibleArchitectures []string      `json:"CompatibleArchitectures"`
}

// publishLayerVersion serves PublishLayerVersion. Version numbers are never
// reused, even after a version is deleted (as on AWS).
func (s *Server) publishLayerVersion(w http.ResponseWriter, r *http.Request, c *call) error {
	sc, name, err := parseLayerName(c.Labels["LayerName"], c.Scope)
	if err != nil {
		return err
	}
	var in publishLayerVersionInput
	if err := decodeBody(r, c, &in); err != nil {
		return err
	}
	var v validationError
	if in.Content == nil {
		v.null("content")
	}
	if slices.ContainsFunc(in.CompatibleRuntimes, func(id string) bool { _, ok := runtimes.Lookup(id); return !ok }) {
		v.add("["+strings.Join(in.CompatibleRuntimes, ", ")+"]", "compatibleRuntimes", "Member must satisfy enum value set: ["+strings.Join(awsSupportedRuntimes, ", ")+"]")
	}
	if slices.ContainsFunc(in.CompatibleArchitectures, func(a string) bool { return a != "x86_64" && a != "arm64" }) {
		v.add("["+strings.Join(in.CompatibleArchitectures, ", ")+"]", "compatibleArchitectures", "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]")
	}
	if len(in.Description) > 256 {
		v.add(in.Description, "description", "Member must have length less than or equal to 256")
	}
	if err := v.err(); err != nil {
		return err
	}
	if sc != c.Scope {
		return errInvalidParameter("Layers can only be published in the caller's account and region (%s, %s).", c.Scope.Account, c.Scope.Region)
	}
	if (in.Content.S3Bucket != nil || in.Content.S3Key != nil) && !s.isHotReloadBucket(in.Content.S3Bucket) {
		data, err := s.codeFromS3(r.Context(), sc, in.Content.S3Bucket, in.Content.S3Key, in.Content.S3ObjectVersion, len(in.Content.ZipFile) > 0) // code_s3.go
		if err != nil {
			return err
		}
		in.Content.ZipFile = data
	} else if in.Content.S3Bucket != nil || in.Content.S3Key != nil {
		return s.publishHotReloadLayer(w, r, c, sc, name, &in) // hot_reload_layer.go
	}
	if len(in.Content.ZipFile) == 0 {
		return errInvalidParameter("Please provide a source for layer content.")
	}
	z, err := checkZip(in.Content.ZipFile, 0)
	if err != nil {
		return err
	}
	var uploaded func(error)
	if z, uploaded, err = s.putZip(r.Context(), in.Content.ZipFile, z); err != nil {
		return err
	}
	committed := errNotCommitted
	defer func() { uploaded(committed) }() // gc.go: no sweep until the record is in
	l := &layerVersionRecord{
		Account: sc.Account, Region: sc.Region, Name: name,
		Description: in.Description, LicenseInfo: in.LicenseInfo,
		CompatibleRuntimes: in.CompatibleRuntimes, CompatibleArchitectures: in.CompatibleArchitectures,
		CodeSHA256Hex: z.SHA256Hex, CodeSHA256: z.SHA256, CodeSize: z.Size, UnzippedSize: z.UnzippedSize,
		CreatedDate: time.Now(),
	}
	err = s.recordLayerVersion(r.Context(), sc, name, l)
	committed = err
	if err != nil {
		return err
	}
	return reply(w, c, l.response(codeURL(r, l.CodeSHA256Hex)))
}

// layerVersionLabel reads {LayerName} and {VersionNumber}.
func layerVersionLabel(c *call) (scope, string, int64, error) {
	sc, name, err := parseLayerName(c.Labels["LayerName"], c.Scope)
	if err != nil {
		return scope{}, "", 0, err
	}
	n, err := strconv.ParseInt(c.Labels["VersionNumber"], 10, 64)
	if err != nil {
		return scope{}, "", 0, newError("InvalidRequestContentException", "Could not parse VersionNumber: %s is not a number", c.Labels["VersionNumber"])
	}
	if n < 1 {
		return scope{}, "", 0, errInvalidParameter("Layer Version Cannot be less than 1")
	}
	return sc, name, n, nil
}

func (s *Server) answerLayerVersion(w http.ResponseWriter, r *http.Request, c *call, sc scope, name string, version int64) error {
	var l *layerVersionRecord
	err := s.store.View(r.Context(), func(tx store.Tx) error {
		var err error
		l, err = loadLayerVersion(tx, sc, name, version)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return errLayerNotFound()
	}
	if err != nil {
		return err
	}
	return reply(w, c, l.response(codeURL(r, l.CodeSHA256Hex)))
}

// getLayerVersion serves GetLayerVersion.
func (s *Server) getLayerVersion(w http.ResponseWriter, r *http.Request, c *call) error {
	sc, name, version, err := layerVersionLabel(c)
	if err != nil {
		return err
	}
	return s.answerLayerVersion(w, r, c, sc, name, version)
}

// getLayerVersionByArn serves GetLayerVersionByArn (GET /layers?find=LayerVersion&Arn=...).
func (s *Server) getLayerVersionByArn(w http.ResponseWriter, r *http.Request, c *call) error {
	arn := c.Query.Get("Arn")
	p, ok := parseLayerVersionArn(arn)
	if !ok {
		var v validationError
		v.add(arn, "arn", "Member must satisfy regular expression pattern: "+layerVersionArnPatternText)
		return v.err()
	}
	if p.Version < 1 {
		return errInvalidParameter("Layer Version Cannot be less than 1")
	}
	return s.answerLayerVersion(w, r, c, scope{Account: p.Account, Region: p.Region}, p.Name, p.Version)
}

// deleteLayerVersion serves DeleteLayerVersion; deleting what does not exist
// succeeds, as on AWS.
func (s *Server) deleteLayerVersion(w http.ResponseWriter, r *http.Request, c *call) error {
	sc, name, version, err := layerVersionLabel(c)
	if err != nil {
		return err
	}
	if err := s.store.Update(r.Context(), func(tx store.Tx) error {
		return forget(tx, delLayerVersion, sc, name, strconv.FormatInt(version, 10))
	}); err != nil {
		return err
	}
	s.requestSweep() // its blob goes unless a function still uses it (gc.go)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// awsFilterRuntimes is the runtime enum AWS checks ListLayers' and
// ListLayerVersions' CompatibleRuntime against, in the order AWS prints it
// (its server's set iteration order; recorded in TestLambdaLayer::
// test_layer_exceptions). It is a superset of the published model's enum
// (modelRuntimes): AWS accepts e.g. "nasa" or "python3.15" as a filter.
var awsFilterRuntimes = []string{
	"ruby3.5", "ruby2.6", "dotnetcore1.0", "python3.7", "nodejs8.10", "nasa", "ruby2.7", "python2.7-greengrass",
	"dotnetcore2.0", "python3.8", "java21", "dotnet6", "dotnetcore2.1", "python3.9", "java11", "nodejs6.10",
	"provided", "dotnetcore3.1", "dotnet8", "java25", "java17", "nodejs", "nodejs4.3", "java8.al2", "go1.x",
	"dotnet10", "nodejs20.x", "go1.9", "byol", "nodejs10.x", "provided.al2023", "nodejs22.x", "python3.10",
	"java8", "nodejs12.x", "python3.11", "nodejs24.x", "nodejs8.x", "python3.12", "nodejs14.x", "nodejs8.9",
	"nodejs26.x", "python3.13", "python3.14", "nodejs16.x", "python3.15", "provided.al2", "nodejs4.3-edge",
	"nodejs18.x", "ruby3.2", "python3.4", "ruby3.3", "ruby3.4", "ruby2.5", "python3.6", "python2.7",
}

// layerFilter is ListLayers' and ListLayerVersions' CompatibleRuntime and
// CompatibleArchitecture.
type layerFilter struct{ runtime, arch string }

func parseLayerFilter(c *call, v *validationError) layerFilter {
	f := layerFilter{runtime: c.Query.Get("CompatibleRuntime"), arch: c.Query.Get("CompatibleArchitecture")}
	if f.runtime != "" && !slices.Contains(awsFilterRuntimes, f.runtime) {
		v.add(f.runtime, "compatibleRuntime", "Member must satisfy enum value set: ["+strings.Join(awsFilterRuntimes, ", ")+"]")
	}
	if f.arch != "" && f.arch != "x86_64" && f.arch != "arm64" {
		v.add(f.arch, "compatibleArchitecture", "Member must satisfy enum value set: [x86_64, arm64]")
	}
	return f
}

func (f layerFilter) match(l *layerVersionRecord) bool {
	if f.runtime != "" && !slices.Contains(l.CompatibleRuntimes, f.runtime) {
		return false
	}
	if f.arch != "" && !slices.Contains(l.CompatibleArchitectures, f.arch) {
		return false
	}
	return true
}

// scanLayerVersions returns the versions of one layer (or of all layers when
// name is ""), in key order: by layer name, then oldest first.
func scanLayerVersions(tx store.Tx, sc scope, name string) ([]*layerVersionRecord, error) {
	prefix := sc.Account + "/" + sc.Region + "/"
	if name != "" {
		prefix = layerPrefix(sc, name)
	}
	return store.All[layerVersionRecord](tx, bucketLayerVersions, prefix)
}

// matchingLayerVersions reads the filters and MaxItems of ListLayers and
// ListLayerVersions and returns the versions of sc's layer name (of all its
// layers for "") that match, in key order (by layer name, then oldest first),
// and the page size.
func (s *Server) matchingLayerVersions(r *http.Request, c *call, sc scope, name string) ([]*layerVersionRecord, int, error) {
	var v validationError
	filter := parseLayerFilter(c, &v)
	maxItems, err := parseMaxItems(c, &v, 50)
	if err != nil {
		return nil, 0, err
	}
	if err := v.err(); err != nil {
		return nil, 0, err
	}
	var versions []*layerVersionRecord
	if err := s.store.View(r.Context(), func(tx store.Tx) (err error) {
		versions, err = scanLayerVersions(tx, sc, name)
		return err
	}); err != nil {
		return nil, 0, err
	}
	return slices.DeleteFunc(versions, func(l *layerVersionRecord) bool { return !filter.match(l) }), cmp.Or(maxItems, 50), nil
}

type listLayerVersionsOutput struct {
	LayerVersions []layerVersionListItem `json:"LayerVersions"`
	NextMarker    string                 `json:"NextMarker,omitempty"`
}

// listLayerVersions serves ListLayerVersions, newest first.
func (s *Server) listLayerVersions(w http.ResponseWriter, r *http.Request, c *call) error {
	sc, name, err := parseLayerName(c.Labels["LayerName"], c.Scope)
	if err != nil {
		return err
	}
	versions, maxItems, err := s.matchingLayerVersions(r, c, sc, name)
	if err != nil {
		return err
	}
	slices.Reverse(versions)
	var items []layerVersionListItem
	for _, l := range versions {
		items = append(items, l.listItem())
	}
	p, err := pageOf(c, items, maxItems, func(x layerVersionListItem) string { return strconv.FormatInt(x.Version, 10) })
	if err != nil {
		return err
	}
	return reply(w, c, listLayerVersionsOutput{LayerVersions: p.items, NextMarker: p.next})
}

type layersListItem struct {
	LayerName             string               `json:"LayerName"`
	LayerArn              string               `json:"LayerArn"`
	LatestMatchingVersion layerVersionListItem `json:"LatestMatchingVersion"`
}

type listLayersOutput struct {
	Layers     []layersListItem `json:"Layers"`
	NextMarker string           `json:"NextMarker,omitempty"`
}

// listLayers serves ListLayers: each layer with its newest version that
// matches the filters.
func (s *Server) listLayers(w http.ResponseWriter, r *http.Request, c *call) error {
	versions, maxItems, err := s.matchingLayerVersions(r, c, c.Scope, "")
	if err != nil {
		return err
	}
	var items []layersListItem
	for _, l := range versions {
		// Versions come oldest first per layer: a later matching one replaces this.
		if len(items) > 0 && items[len(items)-1].LayerName == l.Name {
			items[len(items)-1].LatestMatchingVersion = l.listItem()
			continue
		}
		items = append(items, layersListItem{LayerName: l.Name, LayerArn: l.layerArn(), LatestMatchingVersion: l.listItem()})
	}
	p, err := pageOf(c, items, maxItems, func(x layersListItem) string { return x.LayerName })
	if err != nil {
		return err
	}
	return reply(w, c, listLayersOutput{Layers: p.items, NextMarker: p.next})
}

// recordLayerVersion gives l the layer's next version number and stores it,
// in one transaction.
func (s *Server) recordLayerVersion(ctx context.Context, sc scope, name string, l *layerVersionRecord) error {
	counterKey := sc.Account + "/" + sc.Region + "/" + name
	return s.store.Update(ctx, func(tx store.Tx) error {
		var last int64
		if err := tx.Get(bucketLayerCounters, counterKey, &last); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		l.Version = last + 1
		if err := tx.Put(bucketLayerCounters, counterKey, l.Version); err != nil {
			return err
		}
		return tx.Put(bucketLayerVersions, layerVersionKey(sc, name, l.Version), l)
	})
}
