"use client";

import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

// Gross, refunded and net revenue per day of one currency. `rows` hold exact decimal strings
// from the API; the chart needs numbers only to draw bars, the table beside it shows the exact text.
export default function RevenueChart({ rows, currency }) {
  const data = rows.map((row) => ({
    period: row.period,
    gross: Number(row.gross),
    refunded: Number(row.refunded),
    net: Number(row.net),
  }));
  const money = (value) =>
    new Intl.NumberFormat("en-US", { style: "currency", currency: currency.toUpperCase() }).format(value);
  return (
    <div className="chart" data-testid="revenue-chart" data-currency={currency}>
      <ResponsiveContainer width="100%" height={260}>
        <BarChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="period" tickLine={false} fontSize={12} />
          <YAxis tickFormatter={money} width={80} fontSize={12} />
          <Tooltip formatter={(value) => money(value)} />
          <Legend />
          <Bar dataKey="gross" name="Gross" fill="#6366f1" isAnimationActive={false} />
          <Bar dataKey="refunded" name="Refunded" fill="#f97316" isAnimationActive={false} />
          <Bar dataKey="net" name="Net" fill="#10b981" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
