"use client";

import { useEffect } from "react";
import { useRouter } from "next/navigation";
import { PageLoader } from "@/components/ui";
import { isLoggedIn } from "@/lib/auth";

export default function Home() {
  const router = useRouter();
  useEffect(() => {
    router.replace(isLoggedIn() ? "/dashboard/subscription/" : "/login/");
  }, [router]);
  return <PageLoader label="Opening SkillSwap…" />;
}
