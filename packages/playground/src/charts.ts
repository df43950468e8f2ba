/** Live loss and accuracy curves (uPlot): training solid, validation dashed, one point per epoch. */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface LiveChart {
  /** Appends one epoch's values (undefined where a series has no value). */
  push(epoch: number, values: (number | undefined)[]): void;
  clear(): void;
}

/** A chart of `series` names (e.g. ['loss', 'val_loss']) in `target`. */
export function liveChart(target: HTMLElement, title: string, series: string[]): LiveChart {
  const colors = ['#1f77b4', '#d62728'];
  const data: (number | null)[][] = [[], ...series.map(() => [])];
  const plot = new uPlot(
    {
      title,
      width: Math.max(target.clientWidth, 320),
      height: 220,
      scales: { x: { time: false } },
      axes: [{ label: 'epoch' }, {}],
      series: [
        { label: 'epoch' },
        ...series.map((label, i) => ({
          label,
          stroke: colors[i % colors.length],
          width: 2,
          dash: label.startsWith('val_') ? [6, 4] : undefined,
        })),
      ],
    },
    data as uPlot.AlignedData,
    target,
  );
  return {
    push(epoch, values) {
      (data[0] as number[]).push(epoch);
      values.forEach((v, i) => {
        (data[i + 1] as (number | null)[]).push(v ?? null);
      });
      plot.setData(data as uPlot.AlignedData);
    },
    clear() {
      for (const column of data) column.length = 0;
      plot.setData(data as uPlot.AlignedData);
    },
  };
}
