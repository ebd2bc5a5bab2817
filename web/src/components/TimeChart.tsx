import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/** Counts per period as bars and the average rating as a line (uPlot draws on a canvas, so the
 * caller also renders the numbers as a table for screen readers). */
export function TimeChart(props: { label: string; periods: number[]; counts: number[]; ratings: (number | null)[] }) {
  const box = useRef<HTMLDivElement>(null);
  const { periods, counts, ratings, label } = props;
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const width = () => Math.max(280, element.clientWidth);
    const step = periods.length > 1 ? periods[1]! - periods[0]! : 86_400;
    const chart = new uPlot(
      {
        width: width(),
        height: 260,
        // Half a period either side: the first and last bars are centred on their period, and
        // without it half of each was drawn outside the plot.
        scales: { x: { time: true, range: (_u, min, max) => [min - step / 2, max + step / 2] }, count: { range: (_u, _min, max) => [0, Math.max(1, max)] }, stars: { range: [0, 5] } },
        axes: [
          {},
          { scale: "count", label: "Items" },
          { scale: "stars", side: 1, label: "Average ★", grid: { show: false } },
        ],
        series: [
          {},
          { label: "Items", scale: "count", stroke: "#1f4fd1", fill: "rgba(31, 79, 209, 0.25)", paths: uPlot.paths.bars!({ size: [0.7, 40] }), points: { show: false } },
          { label: "Average rating", scale: "stars", stroke: "#8a5a00", width: 2, spanGaps: true },
        ],
      },
      [periods, counts, ratings],
      element,
    );
    const resize = new ResizeObserver(() => chart.setSize({ width: width(), height: 260 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [periods, counts, ratings]);
  return <div ref={box} className="chart" role="img" aria-label={label} />;
}
