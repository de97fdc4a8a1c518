package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// urlRow is one entry of GET /_lamb/urls.
type urlRow struct {
	URLID       string `json:"urlId"`
	FunctionArn string `json:"functionArn"`
	AuthType    string `json:"authType"`
	InvokeMode  string `json:"invokeMode"`
	FunctionURL string `json:"functionUrl"`
	PathURL     string `json:"pathUrl"`
}

func newURLsCmd() *cobra.Command {
	var endpoint string
	cmd := &cobra.Command{
		Use:   "urls",
		Short: "List function URLs with the local address to curl",
		Long: `List every function URL config with two local addresses: the host-name form
(http://<url-id>.lambda-url.<region>.localhost:<port>/, which resolves to the
loopback on most systems) and the path form (/_lamb/urls/<url-id>/) for clients
that cannot resolve *.localhost.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var rows []urlRow
			if err := getJSON(cmd.Context(), strings.TrimRight(endpoint, "/")+"/_lamb/urls", &rows); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "FUNCTION\tAUTH\tMODE\tURL\tPATH URL")
			for _, r := range rows {
				fn := r.FunctionArn
				if i := strings.Index(fn, ":function:"); i >= 0 {
					fn = fn[i+len(":function:"):]
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", fn, r.AuthType, r.InvokeMode, r.FunctionURL, r.PathURL)
			}
			return tw.Flush()
		},
	}
	endpointFlag(cmd, &endpoint)
	return cmd
}
