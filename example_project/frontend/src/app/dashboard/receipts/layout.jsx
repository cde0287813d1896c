export const metadata = { title: "Receipts" };

export default function Layout({ children }) {
  return children;
}
