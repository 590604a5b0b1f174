/**
 * A small dependency-free SVG: one cumulative distribution line per series, on a logarithmic x axis
 * (waits span milliseconds to seconds across libraries).
 */
export function cdfChart(title: string, unit: string, series: { name: string; values: number[] }[]): string {
  const width = 860;
  const height = 420;
  const margin = { left: 60, right: 300, top: 40, bottom: 50 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const minX = 1;
  const maxX = 10 ** Math.ceil(Math.log10(Math.max(10, ...series.flatMap((s) => s.values))));
  const colors = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d'];
  const x = (v: number) =>
    margin.left + ((Math.log10(Math.max(minX, v)) - Math.log10(minX)) / (Math.log10(maxX) - Math.log10(minX))) * plotW;
  const y = (f: number) => margin.top + (1 - f) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${margin.left}" y="22" font-size="15">${escape(title)}</text>`,
    `<line x1="${margin.left}" y1="${y(0)}" x2="${margin.left + plotW}" y2="${y(0)}" stroke="#333"/>`,
    `<line x1="${margin.left}" y1="${y(0)}" x2="${margin.left}" y2="${y(1)}" stroke="#333"/>`,
  ];
  for (let v = minX; v <= maxX; v *= 10) {
    parts.push(`<text x="${x(v)}" y="${y(0) + 18}" text-anchor="middle">${v}</text>`);
    parts.push(`<line x1="${x(v)}" y1="${y(0)}" x2="${x(v)}" y2="${y(1)}" stroke="#eee"/>`);
  }
  for (let i = 0; i <= 4; i++) {
    parts.push(`<text x="${margin.left - 8}" y="${y(i / 4) + 4}" text-anchor="end">${(i * 25).toFixed(0)}%</text>`);
    parts.push(
      `<line x1="${margin.left}" y1="${y(i / 4)}" x2="${margin.left + plotW}" y2="${y(i / 4)}" stroke="#eee"/>`,
    );
  }
  parts.push(`<text x="${margin.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${escape(unit)}</text>`);
  series.forEach((s, index) => {
    const sorted = [...s.values].sort((a, b) => a - b);
    const points = sorted.map((v, i) => `${x(v).toFixed(1)},${y((i + 1) / sorted.length).toFixed(1)}`);
    const color = colors[index % colors.length];
    parts.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${x(0)},${y(0)} ${points.join(' ')}"/>`,
    );
    const ly = margin.top + 20 + index * 20;
    parts.push(
      `<line x1="${width - margin.right + 15}" y1="${ly}" x2="${width - margin.right + 40}" y2="${ly}" stroke="${color}" stroke-width="3"/>`,
    );
    parts.push(`<text x="${width - margin.right + 46}" y="${ly + 4}">${escape(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
