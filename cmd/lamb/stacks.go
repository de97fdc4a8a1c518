package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lambhq/lamb/template"
)

func newStacksCmd() *cobra.Command {
	var endpoint string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stacks [NAME]",
		Short: "List the stacks lamb deploy made, with their resources and outputs",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sc := &stacksClient{endpoint: endpoint}
			var stacks []*template.Stack
			if len(args) == 1 {
				s, err := sc.Get(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				stacks = []*template.Stack{s}
			} else {
				var err error
				if stacks, err = sc.List(cmd.Context()); err != nil {
					return err
				}
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(stacks)
			}
			if len(stacks) == 0 {
				fmt.Fprintln(w, "no stacks")
				return nil
			}
			for i, s := range stacks {
				if i > 0 {
					fmt.Fprintln(w)
				}
				fmt.Fprintf(w, "STACK %s  %s  %s  (%s)\n", s.Name, s.Status, s.UpdatedAt.Format("2006-01-02 15:04:05Z"), s.Template)
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "  LOGICAL ID\tTYPE\tSTATUS\tPHYSICAL ID / REASON")
				for _, r := range s.Resources {
					detail := r.PhysicalID
					if r.Status == template.StatusSkipped {
						detail = r.Reason
					}
					fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", r.LogicalID, r.Type, r.Status, detail)
					for _, g := range r.Generated {
						detail := g.PhysicalID
						if g.Status == template.StatusSkipped {
							detail = g.Reason
						}
						fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\n", g.LogicalID, g.Type, g.Status, detail)
					}
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				if len(s.Outputs) > 0 {
					fmt.Fprintln(w, "  Outputs:")
					for _, k := range sortedKeys(s.Outputs) {
						fmt.Fprintf(w, "    %s = %s\n", k, s.Outputs[k])
					}
				}
			}
			return nil
		},
	}
	endpointFlag(cmd, &endpoint)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the stack records as JSON")
	return cmd
}
