package api

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/lambhq/lamb/store"
)

// layerVersionArnPatternText is the pattern AWS prints for a bad layer version ARN.
const layerVersionArnPatternText = `(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)`

var (
	layerVersionArnPattern = regexp.MustCompile(`^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:(?P<region>(?:eusc-)?[a-z]{2}(?:(?:-gov)|(?:-iso(?:[a-z]?)))?-[a-z]+-\d{1}):(?P<account>\d{12}):layer:(?P<name>[a-zA-Z0-9-_]+):(?P<version>[0-9]+))$`)
	layerNamePattern       = regexp.MustCompile(`^(?:arn:[a-zA-Z0-9-]+:lambda:(?P<region>[a-zA-Z0-9-]+):(?P<account>\d{12}):layer:(?P<name>[a-zA-Z0-9-_]+)|(?P<bare>[a-zA-Z0-9-_]+))$`)
)

// layerVersionRecord is one published layer version as stored.
type layerVersionRecord struct {
	Account                 string    `json:"account"`
	Region                  string    `json:"region"`
	Name                    string    `json:"name"`
	Version                 int64     `json:"version"`
	Description             string    `json:"description"`
	LicenseInfo             string    `json:"licenseInfo,omitempty"`
	CompatibleRuntimes      []string  `json:"compatibleRuntimes"`
	CompatibleArchitectures []string  `json:"compatibleArchitectures"`
	CodeSHA256Hex           string    `json:"codeSha256Hex"`
	CodeSHA256              string    `json:"codeSha256"`
	CodeSize                int64     `json:"codeSize"`
	UnzippedSize            int64     `json:"unzippedSize"`
	CodeDir                 string    `json:"codeDir,omitempty"` // hot reload: the folder, as given in S3Key (hot_reload_layer.go)
	CreatedDate             time.Time `json:"createdDate"`
}

func layerPrefix(sc scope, name string) string {
	return sc.Account + "/" + sc.Region + "/" + name + "/"
}

func layerVersionKey(sc scope, name string, version int64) string {
	return fmt.Sprintf("%s%010d", layerPrefix(sc, name), version)
}

func layerArn(sc scope, name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:layer:%s", sc.Region, sc.Account, name)
}

func (l *layerVersionRecord) scope() scope     { return scope{Account: l.Account, Region: l.Region} }
func (l *layerVersionRecord) layerArn() string { return layerArn(l.scope(), l.Name) }
func (l *layerVersionRecord) versionArn() string {
	return l.layerArn() + ":" + strconv.FormatInt(l.Version, 10)
}

// parsedLayerVersionArn splits a layer version ARN; ok is false if it is not one.
type parsedLayerVersionArn struct {
	Region, Account, Name string
	Version               int64
}

func parseLayerVersionArn(arn string) (parsedLayerVersionArn, bool) {
	g := matchGroups(layerVersionArnPattern, arn)
	if g == nil {
		return parsedLayerVersionArn{}, false
	}
	v, err := strconv.ParseInt(g["version"], 10, 64)
	if err != nil {
		return parsedLayerVersionArn{}, false
	}
	return parsedLayerVersionArn{Region: g["region"], Account: g["account"], Name: g["name"], Version: v}, true
}

// parseLayerName reads the {LayerName} label: a name or a layer ARN. A layer
// ARN names a layer in its own account and region.
func parseLayerName(raw string, sc scope) (scope, string, error) {
	g := matchGroups(layerNamePattern, raw)
	if g == nil || len(raw) > 140 {
		var v validationError
		if len(raw) > 140 {
			v.add(raw, "layerName", "Member must have length less than or equal to 140")
		} else {
			v.add(raw, "layerName", `Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+`)
		}
		return scope{}, "", v.err()
	}
	if bare := g["bare"]; bare != "" {
		return sc, bare, nil
	}
	return scope{Account: g["account"], Region: g["region"]}, g["name"], nil
}

func loadLayerVersion(tx store.Tx, sc scope, name string, version int64) (*layerVersionRecord, error) {
	return store.Load[layerVersionRecord](tx, bucketLayerVersions, layerVersionKey(sc, name, version))
}

// resolveLayers checks a function's layer list as AWS does and returns the
// layer versions it names, plus their total unzipped size.
func resolveLayers(tx store.Tx, sc scope, arns []string) ([]layerRef, int64, error) {
	if len(arns) > maxLayers {
		return nil, 0, errInvalidParameter("Cannot reference more than %d layers.", maxLayers)
	}
	parsed := make([]parsedLayerVersionArn, len(arns))
	for i, a := range arns {
		p, ok := parseLayerVersionArn(a)
		if !ok {
			// validateConfig refuses these first; this is a safety net.
			return nil, 0, errInvalidParameter("Layer version %s does not exist.", a)
		}
		if p.Region != sc.Region {
			return nil, 0, errInvalidParameter("Layers are not in the same region as the function. Layers are expected to be in region %s.", sc.Region)
		}
		parsed[i] = p
	}
	for i := range parsed {
		for j := i + 1; j < len(parsed); j++ {
			if parsed[i].Account == parsed[j].Account && parsed[i].Name == parsed[j].Name {
				return nil, 0, errInvalidParameter("Two different versions of the same layer are not allowed to be referenced in the same function. %s and %s are versions of the same layer.", arns[i], arns[j])
			}
		}
	}
	refs := make([]layerRef, 0, len(arns))
	var unzipped int64
	for i, p := range parsed {
		l, err := loadLayerVersion(tx, scope{Account: p.Account, Region: p.Region}, p.Name, p.Version)
		if errors.Is(err, store.ErrNotFound) {
			return nil, 0, errInvalidParameter("Layer version %s does not exist.", arns[i])
		}
		if err != nil {
			return nil, 0, err
		}
		refs = append(refs, layerRef{Arn: l.versionArn(), CodeSize: l.CodeSize, CodeSHA256: l.CodeSHA256Hex, Dir: l.CodeDir})
		unzipped += l.UnzippedSize
	}
	return refs, unzipped, nil
}

// layerContent is the Content member of a layer version.
type layerContent struct {
	Location   string `json:"Location"`
	CodeSha256 string `json:"CodeSha256"`
	CodeSize   int64  `json:"CodeSize"`
}

// layerVersionResponse is PublishLayerVersion's and GetLayerVersion's answer.
type layerVersionResponse struct {
	Content                 *layerContent `json:"Content,omitempty"`
	LayerArn                string        `json:"LayerArn,omitempty"`
	LayerVersionArn         string        `json:"LayerVersionArn"`
	Description             string        `json:"Description"`
	CreatedDate             string        `json:"CreatedDate"`
	Version                 int64         `json:"Version"`
	CompatibleRuntimes      *[]string     `json:"CompatibleRuntimes,omitempty"`
	LicenseInfo             string        `json:"LicenseInfo,omitempty"`
	CompatibleArchitectures *[]string     `json:"CompatibleArchitectures,omitempty"`
}

func (l *layerVersionRecord) response(codeURL string) layerVersionResponse {
	if l.CodeDir != "" {
		codeURL = hotReloadLayerLocation(l) // hot_reload_layer.go
	}
	return layerVersionResponse{
		Content:                 &layerContent{Location: codeURL, CodeSha256: l.CodeSHA256, CodeSize: l.CodeSize},
		LayerArn:                l.layerArn(),
		LayerVersionArn:         l.versionArn(),
		Description:             l.Description,
		CreatedDate:             l.CreatedDate.UTC().Format(lastModifiedLayout),
		Version:                 l.Version,
		CompatibleRuntimes:      sentList(l.CompatibleRuntimes),
		LicenseInfo:             l.LicenseInfo,
		CompatibleArchitectures: sentList(l.CompatibleArchitectures),
	}
}

// layerVersionListItem is the LayerVersionsListItem shape (no Content, no
// LayerArn). Unlike Publish/GetLayerVersion, which answer "Description": ""
// (AWS's recordings in shared/aws-snapshots), a list item leaves an empty
// Description out: moto's test_list_lambda_layers, verified against AWS, expects
// exactly Version, LayerVersionArn, CompatibleRuntimes, LicenseInfo and CreatedDate.
type layerVersionListItem struct {
	LayerVersionArn         string    `json:"LayerVersionArn"`
	Version                 int64     `json:"Version"`
	Description             string    `json:"Description,omitempty"`
	CreatedDate             string    `json:"CreatedDate"`
	CompatibleRuntimes      *[]string `json:"CompatibleRuntimes,omitempty"`
	LicenseInfo             string    `json:"LicenseInfo,omitempty"`
	CompatibleArchitectures *[]string `json:"CompatibleArchitectures,omitempty"`
}

func (l *layerVersionRecord) listItem() layerVersionListItem {
	r := l.response("")
	return layerVersionListItem{
		LayerVersionArn: r.LayerVersionArn, Version: r.Version, Description: r.Description,
		CreatedDate: r.CreatedDate, CompatibleRuntimes: r.CompatibleRuntimes,
		LicenseInfo: r.LicenseInfo, CompatibleArchitectures: r.CompatibleArchitectures,
	}
}

// sentList answers a list as the publisher sent it: absent when it was not
// sent, [] when it was sent empty (AWS's recordings test_layer_s3_content and
// test_layer_function_exceptions show both).
func sentList(s []string) *[]string {
	if s == nil {
		return nil
	}
	return &s
}

func errLayerNotFound() *awsError { return errNotFound("The resource you requested does not exist.") }
