import "./globals.css";
import { Toaster } from "@/components/Toast";

export const metadata = {
  title: { default: "SkillSwap", template: "%s · SkillSwap" },
  description: "SkillSwap Premium and tips, powered by Stripe Checkout.",
};

export const viewport = {
  themeColor: "#4f46e5",
};

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>
        {children}
        <Toaster />
      </body>
    </html>
  );
}
