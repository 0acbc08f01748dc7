# Charts of a bench/run: latency against load, and create latency against live sandboxes.
#   gnuplot -e "datadir='DIR'; outdir='DIR'; load_ok=1; create_ok=1" bench/plot.gp
# Reads the .dat files osb_bench writes into datadir; writes PNGs into outdir. A chart whose
# *_ok is 0 (its scenario did not run) is not drawn.
set terminal pngcairo size 900,540 font ",10"
set grid
set key top left

if (load_ok) {
  set output outdir."/latency_vs_load.png"
  set title "echo round trip under load: latency against concurrent clients"
  set xlabel "concurrent clients"
  set ylabel "latency (ms)"
  set y2label "commands/s"
  set logscale x 2
  set logscale y 10
  set xrange [0.8:80]
  set xtics (1, 8, 64)
  set ytics nomirror
  set y2tics
  plot datadir."/latency_vs_load.dat" using 1:2 with linespoints lw 2 title "osbd p50", \
       "" using 1:3 with linespoints lw 2 dt 2 title "osbd p99", \
       "" using 1:4 with linespoints lw 2 title "direct HTTP p50", \
       "" using 1:5 with linespoints lw 2 dt 2 title "direct HTTP p99", \
       "" using 1:6 axes x1y2 with linespoints lw 1 pt 7 title "osbd commands/s", \
       "" using 1:7 axes x1y2 with linespoints lw 1 pt 5 title "direct commands/s"
}

unset logscale
unset y2label
unset y2tics
set xtics auto
if (create_ok) {
  set output outdir."/create_vs_sandboxes.png"
  set title "create (POST until /ping answers) against live sandboxes"
  set xlabel "live sandboxes"
  set ylabel "create latency (ms)"
  set y2label "machine memory used (MiB)"
  set y2tics
  set logscale x 10
  set xrange [0.8:300]
  plot datadir."/create_vs_sandboxes.dat" using 1:2 with linespoints lw 2 title "create p50", \
       "" using 1:3 with linespoints lw 2 dt 2 title "create p90", \
       "" using 1:4 with linespoints lw 2 dt 3 title "create p99", \
       "" using 1:5 axes x1y2 with linespoints lw 2 title "memory used (MemAvailable drop)"
}
