/**
 * Today's traffic per 15 minutes (all queues) with Apache ECharts. Only the parts drawn are imported
 * (core + bar + line + canvas), which keeps the desk bundle far smaller than `import * as echarts`.
 * The figures come from GET /api/reports/calls, re-read every minute: a 15-minute bucket changes slowly,
 * and the live numbers are on the wallboard above.
 */
import { useEffect, useRef, useState } from 'react';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useDesktop } from '../components/context.js';
import { useLead, useLeadT } from './context.js';
import { beijingDate, intervalSeries, type IntervalSeries } from './reports.js';

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

const REFRESH_MS = 60_000;

export function IntervalChart() {
  const lead = useLead();
  const t = useLeadT();
  const lang = useDesktop((s) => s.lang);
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const [series, setSeries] = useState<IntervalSeries | null>(null);

  useEffect(() => {
    let stop = false;
    const load = async () => {
      const today = beijingDate(Date.now());
      const rows = await lead.run(() =>
        lead.report({ from: today, to: new Date().toISOString(), granularity: '15m', by: 'queue' }),
      );
      if (!stop && rows) setSeries(intervalSeries(rows, '*', '15m'));
    };
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [lead]);

  useEffect(() => {
    if (!el.current) return;
    chart.current = echarts.init(el.current);
    const onResize = () => chart.current?.resize();
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      chart.current?.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    if (!chart.current || !series) return;
    chart.current.setOption(
      {
        animation: false,
        tooltip: { trigger: 'axis' },
        legend: { top: 0 },
        grid: { left: 40, right: 48, top: 32, bottom: 24 },
        xAxis: { type: 'category', data: series.labels },
        yAxis: [
          { type: 'value', minInterval: 1 },
          { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
        ],
        series: [
          { name: t('offered'), type: 'bar', data: series.offered },
          { name: t('answered'), type: 'bar', data: series.answered },
          { name: t('abandoned'), type: 'bar', data: series.abandoned },
          { name: t('serviceLevel'), type: 'line', yAxisIndex: 1, connectNulls: true, data: series.serviceLevel },
          { name: t('answerRate'), type: 'line', yAxisIndex: 1, connectNulls: true, data: series.answerRate },
        ],
      },
      true,
    );
    // t changes with the language; the legend names must follow.
  }, [series, lang]);

  return (
    <div className="card wb-chart">
      <h3>{t('chartTitle')}</h3>
      {series && series.labels.length === 0 && <p>{t('noData')}</p>}
      <div ref={el} className="wb-chart-canvas" data-testid="wb-chart" />
    </div>
  );
}
